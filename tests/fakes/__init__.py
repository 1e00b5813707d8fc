"""Fakes of outside services, served over real sockets so the production HTTP code is exercised."""
