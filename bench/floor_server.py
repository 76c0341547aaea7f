"""The bare floor for bench/fleet_scale.py: FastAPI + uvicorn holding WebSockets and
nothing else (deflate off, as GameOps runs). POST /push/{n}?id=X sends "push:X" to socket n;
/echo/{n} answers each frame."""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()
sockets: dict[str, WebSocket] = {}


@app.get("/health")
async def health() -> dict[str, int]:
    return {"sockets": len(sockets)}


@app.websocket("/ws/{name}")
async def hold(websocket: WebSocket, name: str) -> None:
    await websocket.accept()
    sockets[name] = websocket
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        sockets.pop(name, None)


@app.websocket("/echo/{name}")
async def echo(websocket: WebSocket, name: str) -> None:
    """Answers every frame with a short one (bench/heartbeat_cost.py's floor)."""
    await websocket.accept()
    try:
        while True:
            await websocket.receive_text()
            await websocket.send_text("ack")
    except WebSocketDisconnect:
        pass


@app.post("/push/{name}")
async def push(name: str, id: str) -> dict[str, bool]:
    socket = sockets.get(name)
    if socket is None:
        return {"sent": False}
    await socket.send_text(f"push:{id}")
    return {"sent": True}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8771)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, ws_per_message_deflate=False,
                log_level="warning")  # fmt: skip


if __name__ == "__main__":
    main()
