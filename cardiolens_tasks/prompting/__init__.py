"""How a prompt is made: slice selection, rendering, prompt text and the builder that joins
them (plus contact sheets and Parquet pre-rendering, which reuse the same steps)."""
