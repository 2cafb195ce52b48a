"""The captions of a scene: varied English references that name every item, its count and where it is, and
`caption_content`, which reads back from any caption the multiset of items it names (what the exact content
score compares). Kept apart from the data and the metrics, which both use it."""
import re
from collections import Counter

# (singular, plural, article) per Fashion-MNIST class, in label order.
NOUNS = [("t-shirt", "t-shirts", "a"), ("pair of trousers", "pairs of trousers", "a"),
         ("pullover", "pullovers", "a"), ("dress", "dresses", "a"), ("coat", "coats", "a"),
         ("sandal", "sandals", "a"), ("shirt", "shirts", "a"), ("sneaker", "sneakers", "a"),
         ("bag", "bags", "a"), ("ankle boot", "ankle boots", "an")]
NUMBERS = {2: "two", 3: "three", 4: "four"}
CELLS = [(0, 0), (0, 1), (1, 0), (1, 1)]  # (row, column), reading order
PLACE = {(0, 0): ["top left", "upper left"], (0, 1): ["top right", "upper right"],
         (1, 0): ["bottom left", "lower left"], (1, 1): ["bottom right", "lower right"]}


# ---------------------------------------------------------------------------------------------- captions
def _one(c):
    sing, _, art = NOUNS[c]
    return f"{art} {sing}"


def _count(c, n):
    return _one(c) if n == 1 else f"{NUMBERS[n]} {NOUNS[c][1]}"


def _join(parts):
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _summary(classes, rng):
    """'two coats and a bag': every class with its count, in a random order."""
    counts = list(Counter(classes).items())
    rng.shuffle(counts)
    return _join([_count(c, n) for c, n in counts])


def _listing(items, rng):
    """'a coat at the top left and a bag at the bottom right', in reading order."""
    return _join([f"{_one(c)} {rng.choice(['at', 'in'])} the {rng.choice(PLACE[cell])}" for cell, c in items])


def _rows(items, rng):
    """'in the top row, a coat and a bag; in the bottom row, a dress on the left' (left to right)."""
    parts = []
    for r, name in ((0, "top"), (1, "bottom")):
        row = [(cell, c) for cell, c in items if cell[0] == r]
        if len(row) == 2 and row[0][1] == row[1][1]:
            parts.append(f"in the {name} row, two {NOUNS[row[0][1]][1]}")
        elif len(row) == 2:
            parts.append(f"in the {name} row, {_one(row[0][1])} and {_one(row[1][1])}")
        elif row:
            side = "left" if row[0][0][1] == 0 else "right"
            parts.append(f"in the {name} row, {_one(row[0][1])} on the {side}")
    return "; ".join(parts)


def _relation(items, rng):
    """A sentence about where things are relative to each other (or the empty corner)."""
    if len(items) == 1:
        (cell, c), = items
        return rng.choice([f"a single {NOUNS[c][0]} in the {PLACE[cell][0]} corner",
                           f"just one {NOUNS[c][0]}, in the {rng.choice(PLACE[cell])}"])
    if len(items) == 2:
        (a, ca), (b, cb) = items  # reading order: a is above or left of b
        if a[0] == b[0]:
            row = "top" if a[0] == 0 else "bottom"
            if ca == cb:
                return f"two {NOUNS[ca][1]} side by side in the {row} row"
            return rng.choice([f"{_one(ca)} to the left of {_one(cb)}", f"{_one(cb)} to the right of {_one(ca)}"])
        if a[1] == b[1]:
            side = "left" if a[1] == 0 else "right"
            if ca == cb:
                return f"two {NOUNS[ca][1]}, one above the other on the {side}"
            return rng.choice([f"{_one(ca)} above {_one(cb)}", f"{_one(cb)} below {_one(ca)}"])
        return f"{_one(ca)} at the {PLACE[a][0]} and {_one(cb)} diagonally opposite at the {PLACE[b][0]}"
    if len(items) == 3:
        empty = next(cell for cell in CELLS if cell not in [i for i, _ in items])
        return f"{_summary([c for _, c in items], rng)}, with the {PLACE[empty][0]} corner empty"
    (_, a), (_, b), (_, c), (_, d) = items  # a full grid, described column by column
    return f"{_one(a)} above {_one(c)} on the left, {_one(b)} above {_one(d)} on the right"


def scene_captions(items, rng, n_refs=5):
    """`n_refs` distinct references for one scene. items: [(cell, class)] sorted in reading order."""
    classes = [c for _, c in items]
    k = len(items)
    lead = rng.choice(["a picture of ", "this image shows ", "an image with ", "here we see "])
    makers = [lambda: _summary(classes, rng), lambda: lead + _summary(classes, rng),
              lambda: _listing(items, rng), lambda: _relation(items, rng)]
    if k >= 2:
        makers.append(lambda: _rows(items, rng))
    refs = []
    for _ in range(4 * n_refs):
        cap = makers[len(refs) % len(makers)]()
        if cap not in refs:
            refs.append(cap)
        if len(refs) == n_refs:
            break
    return refs


_NOUN_RE = re.compile(r"(?:(\w+) )?(pairs? of trousers|t-shirts?|(?<![\w-])shirts?|pullovers?|dress(?:es)?|"
                      r"coats?|sandals?|sneakers?|bags?|ankle boots?)\b")
_WORD_COUNT = {"a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "three": 3, "four": 4}
_LOOKUP = {}
for _c, (_s, _p, _) in enumerate(NOUNS):
    _LOOKUP[_s], _LOOKUP[_p] = _c, _c
_LOOKUP["pair of trousers"] = _LOOKUP["pairs of trousers"] = 1


def caption_content(text):
    """The multiset of items a caption names, as a sorted tuple of (class, count): 'two coats and a bag'
    -> ((4, 2), (8, 1)). A noun without a number word counts once."""
    counts = Counter()
    for word, noun in _NOUN_RE.findall(text.lower()):
        counts[_LOOKUP[noun]] += _WORD_COUNT.get(word, 1)
    return tuple(sorted(counts.items()))


def detok(text):
    """Undo the word tokenizer's spacing: 't - shirt' -> 't-shirt', 'left , a' -> 'left, a'."""
    text = re.sub(r"(\w) ([-'’]) (\w)", r"\1\2\3", text)
    return re.sub(r" ([,;.!?:])", r"\1", text).strip()
