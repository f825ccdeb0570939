"""The classifier_api example written the way a FastAPI user would: the peer serval is measured against.

Same routes, same validation limits, the same spam model file (models/spam/1, read with Debian's
python3-fasttext), same SSE events as examples/classifier_api. Runs on Debian 12's python3-fastapi 0.92 +
python3-uvicorn 0.17.6 (pydantic 1.10):

    cd bench && /usr/bin/python3 -m uvicorn fastapi_app:app --workers 1 \
        --no-access-log --log-level warning
"""

import json
import os
from typing import Literal

import fasttext
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

app = FastAPI(title="Classifier API")

fasttext.FastText.eprint = lambda *args, **kwargs: None
_HERE = os.path.dirname(os.path.abspath(__file__))
_SPAM_DIR = os.path.join(_HERE, "..", "models", "spam", "1")
SPAM = fasttext.load_model(os.environ.get("SPAM_MODEL") or os.path.join(
    _SPAM_DIR, next(f for f in sorted(os.listdir(_SPAM_DIR)) if f.endswith((".ftz", ".bin")))))


class PredictIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=10000, description="Text to classify")


class PredictOut(BaseModel):
    label: Literal["spam", "ham"]
    score: float


class GenerateIn(BaseModel):
    prompt: str = Field(..., min_length=1, max_length=10000)
    max_tokens: int = Field(32, ge=1, le=256)


def score_text(text: str) -> PredictOut:
    labels, scores = SPAM.predict(text[:2000].lower().replace("\n", " "), k=1)
    return PredictOut(label=labels[0].replace("__label__", ""), score=min(1.0, float(scores[0])))


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.post("/predict", response_model=PredictOut)
async def predict(body: PredictIn):
    return score_text(body.text)


def tokens_for(prompt: str, n: int):
    # stand-in tokens, as in the serval example: the prompt's words (split on space, tab, newline), cycled
    words = [w for w in re.split(r"[ \t\n]", prompt) if w] or ["token"]
    return [words[i % len(words)] for i in range(n)]


@app.post("/generate")
async def generate(body: GenerateIn):
    async def events():
        for i, tok in enumerate(tokens_for(body.prompt, body.max_tokens)):
            yield "data: " + json.dumps({"token": tok, "index": i}, separators=(",", ":")) + "\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")
