#!/usr/bin/env python3
"""Builds datasets/wordnet/*.csv (synset text -> lexicographer file) from WordNet 3.0's data files.

Standard library only; it reads local files and never downloads. Not a WordNet reader in
general: it parses only the fields this dataset needs from data.noun and data.verb (wndb(5WN)).

Usage: python3 datasets/make_wordnet.py [WORDNET_DIR] [--out DIR] [--seed N] [--no-examples]
  WORDNET_DIR  directory holding data.noun and data.verb (default /usr/share/wordnet,
               Debian's wordnet-base package)
  --out        output directory (default: the wordnet/ folder beside this script)

Output, all RFC 4180 with "\n" line ends, rows in a seeded random order:
  train.csv, valid.csv   id,text,label
  test.csv               id,text
  test_labels.csv        id,label
One row per noun and verb synset: id = pos letter + 8-digit synset offset (n02084071),
text = the synset's lemmas (underscores as spaces) joined by ", ", then ": ", then its gloss;
label = its lexicographer file name (noun.animal, verb.motion, ...). Split 80/10/10, stratified
by label: in each class, round(10%) rows go to valid, round(10%) to test, the rest to train.
"""

import argparse
import csv
import os
import re
import sys

# Lexicographer file names by number (lexnames(5WN)); only the noun and verb files are used.
LEXNAMES = {
    3: "noun.Tops", 4: "noun.act", 5: "noun.animal", 6: "noun.artifact", 7: "noun.attribute",
    8: "noun.body", 9: "noun.cognition", 10: "noun.communication", 11: "noun.event",
    12: "noun.feeling", 13: "noun.food", 14: "noun.group", 15: "noun.location",
    16: "noun.motive", 17: "noun.object", 18: "noun.person", 19: "noun.phenomenon",
    20: "noun.plant", 21: "noun.possession", 22: "noun.process", 23: "noun.quantity",
    24: "noun.relation", 25: "noun.shape", 26: "noun.state", 27: "noun.substance",
    28: "noun.time", 29: "verb.body", 30: "verb.change", 31: "verb.cognition",
    32: "verb.communication", 33: "verb.competition", 34: "verb.consumption",
    35: "verb.contact", 36: "verb.creation", 37: "verb.emotion", 38: "verb.motion",
    39: "verb.perception", 40: "verb.possession", 41: "verb.social", 42: "verb.stative",
    43: "verb.weather",
}

VALID_FRACTION = 0.1
TEST_FRACTION = 0.1
MASK64 = (1 << 64) - 1


class SplitMix64:
    """SplitMix64 generator: fixed across Python versions, unlike random.Random's algorithms."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        """Uniform integer in [0, n), by rejection (no modulo bias)."""
        limit = (1 << 64) - ((1 << 64) % n)
        while True:
            x = self.next_u64()
            if x < limit:
                return x % n

    def shuffle(self, items):
        """Fisher-Yates, in place."""
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


# A quoted example sentence in a gloss: '; "..."' (the gloss proper never holds a double quote).
EXAMPLE_RE = re.compile(r';?\s*"[^"]*"')


def parse_data_file(path, pos, keep_examples):
    """Yields (id, text, label) for each synset line of a wndb(5WN) data file."""
    name = os.path.basename(path)
    with open(path, encoding="utf-8", errors="strict", newline="\n") as f:
        for number, line in enumerate(f, start=1):
            if line.startswith("  "):  # the license header
                continue
            where = f"{name}:{number}"
            data, bar, gloss = line.partition(" | ")
            if not bar:
                raise ValueError(f"{where}: no ' | ' before the gloss")
            fields = data.split(" ")
            if len(fields) < 6 or fields[2] != pos:
                raise ValueError(f"{where}: expected 'offset lex_filenum {pos} w_cnt ...'")
            offset, lex_filenum, w_cnt = fields[0], int(fields[1]), int(fields[3], 16)
            if lex_filenum not in LEXNAMES:
                raise ValueError(f"{where}: lex_filenum {lex_filenum} is not a noun or verb file")
            lemmas = [fields[4 + 2 * k].replace("_", " ") for k in range(w_cnt)]
            gloss = gloss.strip()
            if not keep_examples:
                gloss = EXAMPLE_RE.sub("", gloss).strip()
            yield pos + offset, ", ".join(lemmas) + ": " + gloss, LEXNAMES[lex_filenum]


def split_rows(rows, seed):
    """Stratified 80/10/10 split; each part in a seeded random order."""
    by_label = {}
    for row in rows:
        by_label.setdefault(row[2], []).append(row)
    rng = SplitMix64(seed)
    train, valid, test = [], [], []
    for label in sorted(by_label):
        members = sorted(by_label[label])
        rng.shuffle(members)
        n_valid = int(len(members) * VALID_FRACTION + 0.5)
        n_test = int(len(members) * TEST_FRACTION + 0.5)
        valid += members[:n_valid]
        test += members[n_valid:n_valid + n_test]
        train += members[n_valid + n_test:]
    for part in (train, valid, test):
        part.sort()
        rng.shuffle(part)
    return train, valid, test


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wordnet_dir", nargs="?", default="/usr/share/wordnet")
    parser.add_argument("--out", default=os.path.join(here, "wordnet"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-examples", action="store_true",
                        help="drop the quoted example sentences from the glosses")
    args = parser.parse_args()

    rows = []
    for pos, file in (("n", "data.noun"), ("v", "data.verb")):
        rows += parse_data_file(os.path.join(args.wordnet_dir, file), pos, not args.no_examples)
    train, valid, test = split_rows(rows, args.seed)

    os.makedirs(args.out, exist_ok=True)
    write_csv(os.path.join(args.out, "train.csv"), ("id", "text", "label"), train)
    write_csv(os.path.join(args.out, "valid.csv"), ("id", "text", "label"), valid)
    write_csv(os.path.join(args.out, "test.csv"), ("id", "text"), [r[:2] for r in test])
    write_csv(os.path.join(args.out, "test_labels.csv"), ("id", "label"),
              [(r[0], r[2]) for r in test])
    print(f"{len(rows)} synsets, {len({r[2] for r in rows})} classes: "
          f"train {len(train)}, valid {len(valid)}, test {len(test)}", file=sys.stderr)


if __name__ == "__main__":
    main()
