"""HTTP server: MiniStack's ASGI app on uvicorn (httptools' C parser, uvloop) instead of hypercorn.

AWS's API Gateway is not on the functions' CPU; here every request crosses the emulator at least
once (a write twice: the API call, then its PutEvents). MiniStack's own entry point serves its app
with hypercorn, whose pure-Python HTTP/1.1 parser (h11) was ~30 % of the emulator's CPU on reads;
``serve`` runs the same app on uvicorn: 17 % less emulator CPU under the load mix
(docs/performance.md). It answers as MiniStack's hypercorn configuration does: no Server header,
one Date header (the app's own), 75 s keep-alive, ASGI lifespan for MiniStack's start-up work. It
listens on LOCAL_BIND_ADDRESS (infra/config.py: 127.0.0.1 unless set) and GATEWAY_PORT.
"""

from infra.config import LOCAL_BIND_ADDRESS


def serve() -> None:
    """MiniStack's ASGI app on uvicorn (httptools, uvloop) where MiniStack's main would use hypercorn."""
    import resource

    import uvicorn
    from ministack.app import LOG_LEVEL, _resolve_port, app

    # As MiniStack's main does: a burst of connections must not run into the default 1024 descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    uvicorn.run(
        app,
        host=LOCAL_BIND_ADDRESS,
        port=int(_resolve_port()),
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level=LOG_LEVEL.lower(),
        access_log=False,
        server_header=False,
        date_header=False,
        timeout_keep_alive=75,
    )
