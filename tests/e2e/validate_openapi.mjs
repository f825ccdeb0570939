// Validates an OpenAPI document with an independent validator: @apidevtools/swagger-parser (v12 supports
// OpenAPI 3.1: JSON-Schema validation against the official 3.1 schema, $ref resolution, spec rules).
//
//   node validate_openapi.mjs FILE     -> exit 0 if valid, 1 with the errors printed, 2 on usage/set-up error
//
// The package is installed by scripts/setup.sh into ${SERVAL_CACHE:-$HOME/.cache/serval}/node (outside the
// clone); SERVAL_NODE_MODULES may point at another node_modules directory.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate_openapi.mjs FILE");
  process.exit(2);
}

const cache = process.env.SERVAL_CACHE || path.join(homedir(), ".cache", "serval");
const modules = process.env.SERVAL_NODE_MODULES || path.join(cache, "node", "node_modules");
if (!existsSync(path.join(modules, "@apidevtools", "swagger-parser"))) {
  console.error(`@apidevtools/swagger-parser not found in ${modules}: run scripts/setup.sh`);
  process.exit(2);
}
const require = createRequire(path.join(modules, "..", "package.json"));
const SwaggerParser = require("@apidevtools/swagger-parser");

try {
  // validate() parses, resolves every $ref, validates against the OpenAPI 3.1 JSON Schema and the spec rules.
  const api = await SwaggerParser.validate(path.resolve(file));
  const ops = Object.values(api.paths || {}).reduce((n, item) => n + Object.keys(item).length, 0);
  console.log(`valid: OpenAPI ${api.openapi}, "${api.info.title}" ${api.info.version}, ` +
              `${Object.keys(api.paths || {}).length} paths, ${ops} operations`);
  process.exit(0);
} catch (err) {
  console.log(`invalid: ${err.message}`);
  if (err.details) console.log(JSON.stringify(err.details, null, 2));
  process.exit(1);
}
