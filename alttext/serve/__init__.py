"""`alttext serve`: the local captioner behind an OpenAI-compatible HTTP API.

A thin shell over the same Captioner the CLI uses (same options, same cache, same
cleaning): `protocol` turns requests into images and results into answers, `batcher`
gathers concurrent requests into one Captioner call, `app` is the Starlette application.
"""
