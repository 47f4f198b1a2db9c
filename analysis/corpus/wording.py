"""Small helpers every part writes with: capitals, articles, sizes, weighted choices, and the names of active bleeding."""

import random


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def with_article(noun_phrase: str) -> str:
    first_word = noun_phrase.split()[0]
    if first_word[0].isdigit():
        # "an 8 mm", "an 11 mm", "an 18 mm"; "a 1.8 cm"
        starts_with_vowel_sound = first_word.startswith("8") or first_word.split(".")[0] in ("11", "18")
    else:
        starts_with_vowel_sound = first_word == "AAST" or first_word[0].lower() in "aeio"
    return ("an " if starts_with_vowel_sound else "a ") + noun_phrase


def weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    names = [name for name, _ in options]
    return rng.choices(names, weights=[weight for _, weight in options])[0]


def length_cm(rng: random.Random, low: float, high: float) -> str:
    return f"{rng.uniform(low, high):.1f}"


def dimensions_cm(rng: random.Random, low: float, high: float, axes: int = 2) -> str:
    sizes = sorted((rng.uniform(low, high) for _ in range(axes)), reverse=True)
    return " x ".join(f"{size:.1f}" for size in sizes) + " cm"


def focus_size(rng: random.Random) -> str:
    return rng.choice(("punctate", "tiny", f"{rng.randint(3, 9)} mm", f"{rng.randint(6, 18)} mm", f"{rng.randint(1, 2)}.{rng.randint(0, 9)} cm"))


def other_side(side: str) -> str:
    return "right" if side == "left" else "left"


# Active bleeding, as the findings and the impression name it.
ACTIVE_COUNTABLE = (
    "active extravasation",
    "active contrast extravasation",
    "active arterial extravasation",
    "active extravasation of IV contrast",
    "active extravasation of intravenous contrast",
    "arterial contrast extravasation",
)
ACTIVE_MASS = (
    "active hemorrhage",
    "active arterial hemorrhage",
    "active bleeding",
    "active arterial bleeding",
    "brisk active extravasation",
    "extravasation of IV contrast",
)
ACTIVE_QUANTIFIERS = ("a focus of ", "a small focus of ", "multiple foci of ", "a large focus of ", "a linear focus of ")


def active_phrase(rng: random.Random, quantified: bool = True) -> str:
    """A noun phrase stating active bleeding: dozens of combinations.

    `quantified=False` leaves out "a focus of" and the like, for frames such as
    "persistent ..." that cannot take an article.
    """
    if not quantified or rng.random() < 0.5:
        return rng.choice(ACTIVE_MASS + ACTIVE_COUNTABLE)
    return rng.choice(ACTIVE_QUANTIFIERS) + rng.choice(ACTIVE_COUNTABLE)


def verb_be(noun_phrase: str) -> str:
    return "are" if noun_phrase.startswith("multiple") else "is"
