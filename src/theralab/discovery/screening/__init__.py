"""Virtual screening: registered libraries, the run file, the resumable pipeline and its report.

Modules: :mod:`.config` (TOML run file), :mod:`.libraries`, :mod:`.profile` (per-molecule
profile), :mod:`.pipeline` (``screen.run`` job), :mod:`.report` (hits, report page).
"""

from __future__ import annotations

from theralab.discovery.screening.config import (
    OPERATORS,
    DiversitySection,
    FilterSection,
    ModelSection,
    Objective,
    RankingSection,
    RunConfig,
    RunSection,
    SimilaritySection,
    StandardizeSection,
    load_config,
    parse_condition,
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
    Condition,
    ScreenJob,
    apply_conditions,
    check_config,
    combined_score,
    conditions,
    desirability,
    rank,
    ranking_plan,
    screen_summary,
    select_diverse,
)

__all__ = [
    "Condition",
    "DiversitySection",
    "FilterSection",
    "ModelSection",
    "NAME",
    "OPERATORS",
    "Objective",
    "RankingSection",
    "RunConfig",
    "RunSection",
    "ScreenJob",
    "SimilaritySection",
    "StandardizeSection",
    "apply_conditions",
    "check_config",
    "combined_score",
    "conditions",
    "desirability",
    "libraries_dir",
    "library_path",
    "list_libraries",
    "load_config",
    "parse_condition",
    "parse_config",
    "rank",
    "ranking_plan",
    "register_library",
    "screen_summary",
    "select_diverse",
]
