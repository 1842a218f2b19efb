"""Static files: hashed names (WhiteNoise's manifest storage) are kept a year by browsers."""

YEAR = 365 * 24 * 3600


def add_headers(headers, path: str, url: str) -> None:
    """WhiteNoise marks hashed files immutable for ten years; a year is what we promise."""
    if "immutable" in headers.get("Cache-Control", ""):
        headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
