"""Virtual screening: registered libraries, the run file, the resumable pipeline and its report.

Modules: :mod:`.config` (TOML run file), :mod:`.libraries`, :mod:`.profile` (per-molecule
profile), :mod:`.pipeline` (``screen.run`` job), :mod:`.report` (hits, report page).
"""

from __future__ import annotations

from theralab.discovery.screening.config import (
    DiversitySection,
    FilterSection,
    ModelSection,
    Objective,
    RunConfig,
    RunSection,
    SimilaritySection,
    StandardizeSection,
    load_config,
    parse_config,
)
from theralab.discovery.screening.libraries import (
    NAME,
    libraries_dir,
    library_path,
    list_libraries,
    register_library,
)
from theralab.discovery.screening.pipeline import (
    ScreenJob,
    combined_score,
    desirability,
    screen_summary,
    select_diverse,
)

__all__ = [
    "DiversitySection",
    "FilterSection",
    "ModelSection",
    "NAME",
    "Objective",
    "RunConfig",
    "RunSection",
    "ScreenJob",
    "SimilaritySection",
    "StandardizeSection",
    "combined_score",
    "desirability",
    "libraries_dir",
    "library_path",
    "list_libraries",
    "load_config",
    "parse_config",
    "register_library",
    "screen_summary",
    "select_diverse",
]
