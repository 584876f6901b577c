"""The review web app (Litestar): ``heaters.server.app.create_app(settings)`` builds it."""
