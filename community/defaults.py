"""Built-in reference data: the All Contributors taxonomy, currencies, policy v1, badges.

Created lazily and idempotently (``defaults_ensure``) so a fresh or flushed database works.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, connection, transaction

from community.models import Badge, ContributionType, Currency, ScoringPolicy
from community.models.scoring import (
    DEFAULT_CATEGORY_WEIGHTS,
    DEFAULT_EFFORT_MULTIPLIERS,
    DEFAULT_RATING_MULTIPLIERS,
)

# slug, name, emoji, scoring category, base points
ALL_CONTRIBUTORS_TYPES: list[tuple[str, str, str, str, str]] = [
    ("a11y", "Accessibility", "♿", "technical", "8"),
    ("audio", "Audio", "🔊", "innovation", "5"),
    ("blog", "Blogposts", "📝", "collaboration", "5"),
    ("bug", "Bug reports", "🐛", "problem_solving", "5"),
    ("business", "Business development", "💼", "collaboration", "5"),
    ("code", "Code", "💻", "technical", "10"),
    ("content", "Content", "🖋", "collaboration", "5"),
    ("data", "Data", "🔣", "technical", "6"),
    ("design", "Design", "🎨", "innovation", "8"),
    ("doc", "Documentation", "📖", "technical", "6"),
    ("eventOrganizing", "Event organizing", "📋", "collaboration", "6"),
    ("example", "Examples", "💡", "technical", "5"),
    ("financial", "Financial", "💵", "collaboration", "5"),
    ("fundingFinding", "Funding finding", "🔍", "collaboration", "6"),
    ("ideas", "Ideas & planning", "🤔", "innovation", "5"),
    ("infra", "Infrastructure", "🚇", "technical", "8"),
    ("maintenance", "Maintenance", "🚧", "technical", "8"),
    ("mentoring", "Mentoring", "🧑‍🏫", "collaboration", "6"),
    ("platform", "Packaging/porting", "📦", "technical", "6"),
    ("plugin", "Plugin/utility libraries", "🔌", "technical", "8"),
    ("projectManagement", "Project management", "📆", "collaboration", "6"),
    ("promotion", "Promotion", "📣", "collaboration", "4"),
    ("question", "Answering questions", "💬", "collaboration", "3"),
    ("research", "Research", "🔬", "innovation", "8"),
    ("review", "Reviewed pull requests", "👀", "collaboration", "4"),
    ("security", "Security", "🛡️", "problem_solving", "12"),
    ("talk", "Talks", "📢", "collaboration", "6"),
    ("test", "Tests", "⚠️", "technical", "6"),
    ("tool", "Tools", "🔧", "technical", "8"),
    ("translation", "Translation", "🌍", "collaboration", "5"),
    ("tutorial", "Tutorials", "✅", "collaboration", "6"),
    ("userTesting", "User testing", "📓", "problem_solving", "4"),
    ("video", "Videos", "📹", "collaboration", "5"),
]
# Money-related types need two approvals.
TYPE_APPROVALS = {"financial": 2}

# code, name, exponent
CURRENCIES = [
    ("USD", "US dollar", 2),
    ("EUR", "Euro", 2),
    ("JPY", "Japanese yen", 0),
    ("GIVE", "GIVE points", 0),
]

BADGES = [
    ("first-contribution", "First contribution", "🌱", "Had a first contribution approved."),
    ("ten-reviews", "10 reviews", "👀", "Reviewed ten contributions."),
    ("security-reporter", "Security reporter", "🛡️", "Reported a security issue."),
    ("epoch-top-3", "Epoch top 3", "🏆", "Among the top three of an epoch."),
]


def _ignore_races(fn: Callable[[], object]) -> None:
    try:
        with transaction.atomic():
            fn()
    except IntegrityError:
        pass


def _all_present() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM community_contributiontype LIMIT 1) a)"
            " + (SELECT COUNT(*) FROM (SELECT 1 FROM community_currency LIMIT 1) b)"
            " + (SELECT COUNT(*) FROM (SELECT 1 FROM community_scoringpolicy LIMIT 1) c)"
            " + (SELECT COUNT(*) FROM (SELECT 1 FROM community_badge WHERE automatic LIMIT 1) d)"
        )
        row = cursor.fetchone()
    return bool(row and row[0] == 4)


def defaults_ensure() -> None:
    """Create missing reference rows; one cheap query when they exist."""
    if _all_present():
        return
    if not ContributionType.objects.exists():
        _ignore_races(
            lambda: ContributionType.objects.bulk_create(
                [
                    ContributionType(
                        slug=slug,
                        name=name,
                        emoji=emoji,
                        category=category,
                        required_approvals=TYPE_APPROVALS.get(slug, 1),
                    )
                    for slug, name, emoji, category, _ in ALL_CONTRIBUTORS_TYPES
                ],
                ignore_conflicts=True,
            )
        )
    if not Currency.objects.exists():
        _ignore_races(
            lambda: Currency.objects.bulk_create(
                [Currency(code=code, name=name, exponent=exp) for code, name, exp in CURRENCIES],
                ignore_conflicts=True,
            )
        )
    if not ScoringPolicy.objects.exists():
        _ignore_races(
            lambda: ScoringPolicy.objects.create(
                version=1,
                category_weights=DEFAULT_CATEGORY_WEIGHTS,
                base_points={slug: pts for slug, _, _, _, pts in ALL_CONTRIBUTORS_TYPES},
                default_base_points="5",
                effort_multipliers=DEFAULT_EFFORT_MULTIPLIERS,
                rating_multipliers=DEFAULT_RATING_MULTIPLIERS,
                notes="Initial policy.",
            )
        )
    if not Badge.objects.filter(automatic=True).exists():
        _ignore_races(
            lambda: Badge.objects.bulk_create(
                [
                    Badge(slug=slug, name=name, icon=icon, description=desc, automatic=True)
                    for slug, name, icon, desc in BADGES
                ],
                ignore_conflicts=True,
            )
        )
