"""Documents -> chunks -> embeddings -> Chroma. See pipeline.run_ingest."""
