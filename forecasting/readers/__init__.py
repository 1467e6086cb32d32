"""Readers: every MOENV hourly format into hourly frames (see ``base.ReadResult``)."""
