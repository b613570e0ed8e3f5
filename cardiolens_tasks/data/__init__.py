"""Where data comes from and what it means: the taxonomy and labelling rules, the dataset
format, NIfTI volumes, validation and cardiac anatomy vocabulary."""
