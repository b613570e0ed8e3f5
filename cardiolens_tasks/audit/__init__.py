"""``cardiolens audit``: the benchmark's own shortcut exposure on a dataset.

:mod:`.labels` (label shortcuts and the clinician's rule set), :mod:`.priors` (majority and
option-A baselines) and :mod:`.report` (the combined audit, as a table or JSON).
"""
