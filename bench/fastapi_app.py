"""The classifier_api example written the way a FastAPI user would: the peer serval is measured against.

Same routes, same validation limits, same deterministic scorer, same SSE events as
examples/classifier_api. Runs on Debian 12's python3-fastapi 0.92 + python3-uvicorn 0.17.6 (pydantic 1.10):

    cd bench && /usr/bin/python3 -m uvicorn fastapi_app:app --workers 1 --no-access-log --log-level warning
"""

import json
import re
from typing import Literal

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

app = FastAPI(title="Classifier API")

POSITIVE = {"good", "great", "love", "excellent", "happy", "wonderful", "best", "nice"}
NEGATIVE = {"bad", "terrible", "hate", "awful", "sad", "worst", "poor", "horrible"}
_NON_LETTER = re.compile(rb"[^a-z]+")


class PredictIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=10000, description="Text to classify")


class PredictOut(BaseModel):
    label: Literal["POSITIVE", "NEGATIVE"]
    score: float


class GenerateIn(BaseModel):
    prompt: str = Field(..., min_length=1, max_length=10000)
    max_tokens: int = Field(32, ge=1, le=256)


def score_text(text: str) -> PredictOut:
    # lowercase, split into words on any non-ASCII-letter byte
    pos = neg = 0
    for word in _NON_LETTER.split(text.encode("utf-8").lower()):
        if not word:
            continue
        w = word.decode("ascii")
        if w in POSITIVE:
            pos += 1
        elif w in NEGATIVE:
            neg += 1
    label = "POSITIVE" if pos >= neg else "NEGATIVE"
    return PredictOut(label=label, score=(max(pos, neg) + 1) / (pos + neg + 2))


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
