"""Importers: public CMR datasets and hospital data into the CardioLens dataset format."""
