"""The throughput baseline: a bare FastAPI endpoint returning the same JSON from memory."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Response

app = FastAPI()
BODY = Path(os.environ["OKR_BENCH_BODY"]).read_bytes() if "OKR_BENCH_BODY" in os.environ else b"{}"


@app.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/engagement")
def engagement() -> Response:
    return Response(BODY, media_type="application/json")
