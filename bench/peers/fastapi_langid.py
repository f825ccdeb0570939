"""The peer for bench/models_bench.sh: the same lid.176 model behind FastAPI + uvicorn with Debian's
python3-fasttext, answering the same request and response bodies as serval's POST /v1/classify.

    LID_MODEL=models/langid/1/lid.176.ftz /usr/bin/python3 -m uvicorn fastapi_langid:app --app-dir bench/peers
"""
import os

import fasttext
from fastapi import FastAPI
from pydantic import BaseModel, Field

fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence the load-time warning
MODEL = fasttext.load_model(os.environ.get("LID_MODEL", "models/langid/1/lid.176.ftz"))
app = FastAPI(title="fastapi-langid")


class ClassifyIn(BaseModel):
    model: str = Field(min_length=1)
    text: str = Field(min_length=1)
    top_k: int = Field(default=1, ge=1, le=1000)


class LabelScore(BaseModel):
    label: str
    score: float


class ClassifyOut(BaseModel):
    model: str
    version: int
    labels: list[LabelScore]


@app.post("/v1/classify", response_model=ClassifyOut)
async def classify(body: ClassifyIn) -> ClassifyOut:
    labels, scores = MODEL.predict(body.text.replace("\n", " "), k=body.top_k)
    return ClassifyOut(model=body.model, version=1,
                       labels=[LabelScore(label=l.replace("__label__", ""), score=min(1.0, float(s)))
                               for l, s in zip(labels, scores)])
