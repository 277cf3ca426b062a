"""Tasks on text: CSV, word counts, regular expressions, logs, JSON, a counting script."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
from typing import Any

from ..verify import Verification
from .base import SetupWorkspace, Task
from .files import tree


def output_lines(check: Verification, path: str) -> list[str] | None:
    """The lines of the agent's output file ``path`` (a final newline, or none, ends the
    last line); ``None`` when it is missing, not a file, not UTF-8 or too big."""
    text = check.files.read_text(path, limit=2**20)
    return None if text is None else text.rstrip("\n").split("\n")


class CsvFilterEmails(Task):
    id = "csv_filter_emails"
    title = "Extract filtered e-mail addresses from a CSV file"
    difficulty = "medium"
    prompt = """\
`people.csv` is a comma-separated file with a header line (the column order is
given only by the header; fields contain no commas or quotes). Write to
`emails.txt` the `email` of every person whose `department` is exactly the value
on the `department:` line of TASK.md and whose `age` is greater than or equal to
the `minimum age:` value in TASK.md. One address per line, sorted in ascending
ASCII order, no header, no blank lines.
"""
    solution = """\
python3 - <<'PY'
import csv
task = dict(line.split(": ", 1) for line in open("TASK.md").read().splitlines() if ": " in line)
with open("people.csv", newline="") as f:
    rows = list(csv.DictReader(f))
emails = sorted(r["email"] for r in rows
                if r["department"] == task["department"]
                and int(r["age"]) >= int(task["minimum age"]))
with open("emails.txt", "w") as f:
    f.write("".join(e + "\\n" for e in emails))
PY
"""
    FIRST = ["Ada", "Ben", "Cara", "Dan", "Eve", "Finn", "Gia", "Hugo", "Ivy", "Jon", "Kim",
             "Leo", "Mia", "Ned", "Ola", "Pam", "Quin", "Rosa", "Sam", "Tia"]  # fmt: skip
    LAST = ["Adams", "Baker", "Chen", "Diaz", "Evans", "Fox", "Gray", "Hill", "Ito", "Jones",
            "King", "Lopez", "Moore", "Nash", "Owens", "Park", "Reed", "Stone", "Tran",
            "Wu"]  # fmt: skip
    DEPARTMENTS = ["Sales", "Engineering", "Support", "Finance", "Marketing", "Legal"]
    CITIES = ["Oslo", "Lima", "Pune", "Kyiv", "Accra", "Quito", "Perth", "Porto"]
    DOMAINS = ["example.com", "corp.example", "mail.test"]

    def params(self, rng: random.Random) -> dict[str, Any]:
        columns = ["id", "name", "email", "department", "age", "city"]
        rng.shuffle(columns)
        department = rng.choice(self.DEPARTMENTS)
        minimum = rng.randint(30, 50)
        while True:
            rows, seen = [], set()
            for i in range(1, 61):
                first, last = rng.choice(self.FIRST), rng.choice(self.LAST)
                email = f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@"
                email += rng.choice(self.DOMAINS)
                if email in seen:
                    continue
                seen.add(email)
                row = {"id": str(i), "name": f"{first} {last}", "email": email}
                row["department"] = rng.choice(self.DEPARTMENTS)
                row["age"] = rng.randint(20, 65)
                row["city"] = rng.choice(self.CITIES)
                rows.append(row)
            young = [r for r in rows if r["department"] == department and r["age"] < minimum]
            if young:
                young[0]["age"] = minimum  # someone exactly at the limit
            emails = sorted(
                r["email"] for r in rows if r["department"] == department and r["age"] >= minimum
            )
            if len(emails) >= 3 and len(young) >= 2:
                break
        return {"columns": columns, "rows": rows, "department": department,
                "minimum": minimum, "emails": emails}  # fmt: skip

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        lines = [",".join(p["columns"])]
        lines += [",".join(str(row[c]) for c in p["columns"]) for row in p["rows"]]
        workspace.write("people.csv", "".join(line + "\n" for line in lines))
        workspace.write("TASK.md", f"department: {p['department']}\nminimum age: {p['minimum']}\n")

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        lines = output_lines(check, "emails.txt")
        return lines is not None and [line.strip() for line in lines] == p["emails"]


class CountScript(Task):
    id = "count_script"
    title = "Write a line-counting shell script"
    difficulty = "medium"
    prompt = """\
Write an executable bash script `/workspace/count.sh`. It takes one or more file
paths as arguments and, for each argument in order, prints one line
`<count> <path>` (the path exactly as given, a single space between), where
<count> is the number of lines of the kind named on the `mode:` line of TASK.md:
  - all: every line
  - nonempty: lines containing at least one non-whitespace character
  - comment: lines whose very first character is `#`
A final line without a trailing newline still counts as a line; an empty file has
no lines. After the per-file lines, print one last line `<total> total` with the
sum of the counts. The script must work when run from any directory and with file
names that contain spaces. Example files to try it on are in `samples/`.
"""
    solution = """\
mode=$(sed -n 's/^mode: //p' TASK.md)
{
  echo '#!/bin/bash'
  echo "mode=$mode"
  cat <<'EOF'
total=0
for f in "$@"; do
  case $mode in
    all) n=$(awk 'END { print NR }' "$f") ;;
    nonempty) n=$(awk 'NF { c++ } END { print c + 0 }' "$f") ;;
    comment) n=$(awk '/^#/ { c++ } END { print c + 0 }' "$f") ;;
  esac
  echo "$n $f"
  total=$((total + n))
done
echo "$total total"
EOF
} > count.sh
chmod +x count.sh
./count.sh samples/*
"""
    SAMPLE_WORDS = ["lorem", "ipsum", "dolor", "sit", "amet", "tempor", "magna", "aliqua",
                    "minim", "veniam"]  # fmt: skip
    WORDS = ["red", "green", "blue", "cyan", "pink", "gold", "teal", "navy"]

    def params(self, rng: random.Random) -> dict[str, Any]:
        mode = rng.choice(["all", "nonempty", "comment"])
        samples = {}
        for name in ("first.txt", "second file.txt"):
            lines = []
            for _ in range(rng.randint(3, 9)):
                x = rng.random()
                if x < 0.2:
                    lines.append("")
                elif x < 0.45:
                    lines.append("# " + rng.choice(self.SAMPLE_WORDS))
                else:
                    lines.append(" ".join(rng.sample(self.SAMPLE_WORDS, 3)))
            samples[f"samples/{name}"] = "\n".join(lines) + "\n"

        def hidden_file(last_newline: bool = True) -> str:  # what the verifier runs it on
            lines = []
            for _ in range(rng.randint(4, 14)):
                x = rng.random()
                if x < 0.15:
                    lines.append("")
                elif x < 0.3:
                    lines.append(rng.choice(["   ", "\t", " \t "]))
                elif x < 0.5:
                    lines.append("#" + rng.choice(["", " "]) + rng.choice(self.WORDS))
                elif x < 0.6:
                    lines.append("  # " + rng.choice(self.WORDS))
                else:
                    lines.append(" ".join(rng.sample(self.WORDS, rng.randint(1, 4))))
            return "\n".join(lines) + ("\n" if last_newline else "\n# end")

        files = {"a.txt": hidden_file(), "my notes.txt": hidden_file(),
                 "sub/data.log": hidden_file(), "empty.txt": "",
                 "tail.txt": hidden_file(last_newline=False)}  # fmt: skip
        runs = [sorted(files), ["my notes.txt"], ["tail.txt", "empty.txt", "sub/data.log"]]
        for args in runs:
            rng.shuffle(args)
        return {"mode": mode, "samples": samples, "files": files, "runs": runs}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        for path, text in p["samples"].items():
            workspace.write(path, text)
        workspace.write("TASK.md", f"mode: {p['mode']}\n")

    @staticmethod
    def count(text: str, mode: str) -> int:
        """The lines of ``text`` of the kind ``mode`` names (the prompt's rules)."""
        if text == "":
            return 0
        lines = text.split("\n")
        if text.endswith("\n"):
            lines = lines[:-1]
        if mode == "all":
            return len(lines)
        if mode == "nonempty":
            return sum(1 for line in lines if line.strip(" \t"))
        return sum(1 for line in lines if line.startswith("#"))

    def expected(self, p: dict[str, Any], args: list[str]) -> list[str]:
        counts = [self.count(p["files"][arg], p["mode"]) for arg in args]
        lines = [f"{n} {arg}" for n, arg in zip(counts, args, strict=True)]
        return [*lines, f"{sum(counts)} total"]

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        """Run ``count.sh`` on files it has never seen, in a fresh directory of ours."""
        mode = check.files.mode("count.sh")
        if check.files.kind("count.sh") != "file" or mode is None or not mode & 0o100:
            return False
        try:
            scratch = tempfile.mkdtemp(prefix="count-", dir=check.tmp)
        except OSError:
            return False
        try:
            for name, text in p["files"].items():  # a directory of ours: nothing of the
                path = os.path.join(scratch, name)  # agent's runs while we write it
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
            script = os.path.join(check.workspace, "count.sh")
            for args in p["runs"]:
                done = check.run([script, *args], cwd=scratch, timeout_s=5)  # OSError: no program
                if done.timed_out or done.exit_code != 0 or done.stdout.truncated:
                    return False
                lines = done.stdout.text().rstrip("\n").split("\n")
                if [line.rstrip() for line in lines] != self.expected(p, args):
                    return False
            return True
        except OSError:
            return False
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


class WordFrequency(Task):
    id = "word_frequency"
    title = "Most frequent words"
    difficulty = "easy"
    prompt = """\
`words.txt` contains lowercase words separated by single spaces and newlines.
Write to `top.txt` the N most frequent words, where N is given on the `top:` line
of TASK.md: one line per word, formatted `<count> <word>` (the number of
occurrences, one space, the word), ordered from most to least frequent. There are
no ties among the counts that matter.
"""
    solution = """\
n=$(sed -n 's/^top: //p' TASK.md)
tr ' ' '\\n' < words.txt | grep -v '^$' | sort | uniq -c | sort -rn | head -n "$n" \\
  | awk '{ print $1, $2 }' > top.txt
"""
    WORDS = ["ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen", "ibis", "jay", "koi",
             "lark", "mole", "newt", "owl", "pig", "quail", "rat", "seal", "toad", "vole",
             "wasp", "yak", "zebu", "crab", "deer", "frog", "goat", "hare", "lynx"]  # fmt: skip

    def params(self, rng: random.Random) -> dict[str, Any]:
        words = rng.sample(self.WORDS, 14)
        counts = rng.sample(range(2, 40), 14)  # all different: no ties
        top = rng.randint(3, 6)
        tokens = [word for word, count in zip(words, counts, strict=True) for _ in range(count)]
        rng.shuffle(tokens)
        lines, i = [], 0
        while i < len(tokens):
            k = rng.randint(1, 10)
            lines.append(" ".join(tokens[i : i + k]))
            i += k
        ranked = sorted(zip(counts, words, strict=True), reverse=True)[:top]
        return {"lines": lines, "top": top, "expected": [[str(c), w] for c, w in ranked]}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        workspace.write("words.txt", "\n".join(p["lines"]) + "\n")
        workspace.write("TASK.md", f"top: {p['top']}\n")

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        lines = output_lines(check, "top.txt")
        return lines is not None and [line.split() for line in lines] == p["expected"]


class SedReplace(Task):
    id = "sed_replace"
    title = "Rename an identifier across Python files"
    difficulty = "medium"
    prompt = """\
In every file under `src/` (recursively) whose name ends in `.py`, replace each
whole-word occurrence of the identifier on the `old:` line of TASK.md with the
identifier on the `new:` line. A whole-word occurrence is one that is not
immediately preceded or followed by a letter, digit or underscore. Matching is
case-sensitive. Do not modify any other file (non-.py files must stay unchanged).
"""
    solution = """\
old=$(sed -n 's/^old: //p' TASK.md)
new=$(sed -n 's/^new: //p' TASK.md)
find src -type f -name '*.py' -exec sed -i "s/\\\\b${old}\\\\b/${new}/g" {} +
"""
    VERBS = ["fetch", "load", "parse", "compute", "render", "store", "build", "send"]
    NOUNS = ["records", "items", "users", "orders", "events", "rows", "tokens", "pages"]
    WORDS = ["alpha", "beta", "gamma", "delta", "kappa", "sigma", "omega"]

    def params(self, rng: random.Random) -> dict[str, Any]:
        v1, v2 = rng.sample(self.VERBS, 2)
        n1, n2 = rng.sample(self.NOUNS, 2)
        old, new = f"{v1}_{n1}", f"{v2}_{n2}"
        words = self.WORDS
        snippets = [f"def {old}(source):\n    return list(source)\n",
                    f"result = {old}(data)\n",
                    f"# {old} is called twice: {old}(a), {old}(b)\n",
                    f"value = {old}_v2(data)\n",
                    f"helper = pre{old}\n",
                    f"cache = self.{old}\n",
                    f"print('{old}')\n",
                    f"LIMIT_{old.upper()} = 3\n",
                    "import os\n",
                    f"counter = {rng.randint(0, 999)}\n",
                    f"{rng.choice(words)}_total = {old}([1, 2])\n"]  # fmt: skip
        dirs = ["src", "src/" + rng.choice(words)]
        dirs.append("src/" + rng.choice(words) + "/" + rng.choice(words))
        files = {}
        for i in range(6):
            path = rng.choice(dirs) + "/" + rng.choice(words) + str(i) + ".py"
            files[path] = "".join(rng.choice(snippets) for _ in range(rng.randint(4, 9)))
        files["src/README.md"] = f"Call `{old}()` to get data; see {old}.\n"
        files["src/notes.txt"] = f"{old}\n{old}(x)\n"
        files[rng.choice(dirs) + "/legacy.py.bak"] = f"x = {old}(data)\n"
        files[rng.choice(dirs) + "/script.pyc.txt"] = f"{old}\n"
        return {"old": old, "new": new, "files": files}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        for path, text in p["files"].items():
            workspace.write(path, text)
        workspace.write("TASK.md", f"old: {p['old']}\nnew: {p['new']}\n")

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        word = re.compile(r"(?<![A-Za-z0-9_])" + re.escape(p["old"]) + r"(?![A-Za-z0-9_])")
        expected = {
            path: word.sub(p["new"], text) if path.endswith(".py") else text
            for path, text in p["files"].items()
        }
        found = tree(check, "src") or {}
        files = {path for path, kind in found.items() if kind != "dir"}
        return (
            bool(found)
            and files == set(expected)
            and all(
                check.files.read_text(path, limit=65536) == text for path, text in expected.items()
            )
        )


class JsonExtract(Task):
    id = "json_extract"
    title = "Extract fields from JSON with python3"
    difficulty = "medium"
    prompt = """\
`data.json` holds an object with a `packages` list. Each package has `name`,
`version`, `active` (a boolean) and `dependencies` (a list of objects, each with a
`name` key). Find every package whose `active` is true and that has a dependency
whose `name` equals the value on the `dependency:` line of TASK.md. Write one line
per such package to `result.txt`, formatted `<name> <version>`, sorted by name
(ascending). Only python3's standard library is available (no jq).
"""
    solution = """\
python3 - <<'PY'
import json
dep = open("TASK.md").read().split("dependency: ", 1)[1].split("\\n")[0]
pkgs = json.load(open("data.json"))["packages"]
rows = sorted((p["name"], p["version"]) for p in pkgs
              if p["active"] and any(d["name"] == dep for d in p["dependencies"]))
with open("result.txt", "w") as f:
    f.write("".join("%s %s\\n" % r for r in rows))
PY
"""
    PREFIXES = ["fast", "tiny", "open", "micro", "hyper", "net", "data", "py"]
    STEMS = ["json", "http", "log", "cache", "parse", "auth", "queue", "image", "crypt", "mail"]

    def params(self, rng: random.Random) -> dict[str, Any]:
        names = rng.sample([a + b for a in self.PREFIXES for b in self.STEMS], 26)
        dependency, names = names[0], names[1:]
        packages = []
        for name in names:
            others = [x for x in names if x != name] + [dependency]
            dependencies = [
                {"name": d, "version": f">={rng.randint(0, 3)}.{rng.randint(0, 9)}"}
                for d in rng.sample(others, rng.randint(0, 4))
            ]
            version = f"{rng.randint(0, 4)}.{rng.randint(0, 20)}.{rng.randint(0, 30)}"
            packages.append({"name": name, "version": version, "active": rng.random() < 0.7,
                             "dependencies": dependencies,
                             "maintainer": {"name": rng.choice(self.STEMS).title(),
                                            "email": name + "@example.org"}})  # fmt: skip
        for i, package in enumerate(rng.sample(packages, 3)):  # two that match, one inactive
            if dependency not in [d["name"] for d in package["dependencies"]]:
                at = rng.randint(0, len(package["dependencies"]))
                package["dependencies"].insert(at, {"name": dependency, "version": ">=1.0"})
            package["active"] = i < 2
        expected = sorted(
            [package["name"], package["version"]]
            for package in packages
            if package["active"] and dependency in [d["name"] for d in package["dependencies"]]
        )
        return {"dependency": dependency, "packages": packages, "expected": expected}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        data = {"generated": "2024-05-01", "packages": p["packages"]}
        workspace.write("data.json", json.dumps(data, indent=2) + "\n")
        workspace.write("TASK.md", f"dependency: {p['dependency']}\n")

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        lines = output_lines(check, "result.txt")
        return lines is not None and [line.split() for line in lines] == p["expected"]


PRODUCT_CODE = re.compile(r"[A-Z]{3}-[0-9]{4}")


class RegexLines(Task):
    id = "regex_lines"
    title = "Select lines matching a regular expression"
    difficulty = "medium"
    prompt = """\
Each line of `inventory.txt` consists of tokens separated by single spaces. A
product code is a token made of exactly three uppercase ASCII letters, a hyphen
and exactly four digits (e.g. `ABC-1234`); tokens such as `ABCD-1234`, `AB-1234`,
`abc-1234`, `ABC-123`, `ABC-12345` or `ABC-1234X` are not product codes. Write to
`matches.txt` every line of inventory.txt that contains at least one product code
token, unchanged and in the original order.
"""
    solution = """\
grep -E '(^| )[A-Z]{3}-[0-9]{4}( |$)' inventory.txt > matches.txt
"""
    WORDS = ["shipment", "return", "order", "restock", "transfer", "audit", "sample", "repair"]
    UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def params(self, rng: random.Random) -> dict[str, Any]:
        def code() -> str:
            letters = "".join(rng.choice(self.UPPER) for _ in range(3))
            return f"{letters}-{rng.randint(0, 9999):04d}"

        def decoy() -> str:
            c = code()
            return rng.choice([rng.choice(self.UPPER) + c, c[1:], c.lower(), c[:-1],
                               c + str(rng.randint(0, 9)), c.replace("-", "_"),
                               c + rng.choice(self.UPPER), c[:3] + "-" + c[3:],
                               "#" + c])  # fmt: skip

        lines = []
        for _ in range(40):
            date = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            tokens = [date, rng.choice(self.WORDS)]
            x = rng.random()
            if x < 0.4:
                tokens.append(code())
            elif x < 0.8:
                tokens.append(decoy())
            if rng.random() < 0.3:
                tokens.append(decoy())
            tokens += [str(rng.randint(1, 500)), "units"]
            rng.shuffle(tokens)
            lines.append(" ".join(tokens))
        lines[rng.randrange(40)] = f"{code()} restock {rng.randint(1, 9)} units"
        return {"lines": lines}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        workspace.write("inventory.txt", "\n".join(p["lines"]) + "\n")

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        expected = [
            line
            for line in p["lines"]
            if any(PRODUCT_CODE.fullmatch(token) for token in line.split(" "))
        ]
        return output_lines(check, "matches.txt") == expected


class LogTopIp(Task):
    id = "log_top_ip"
    title = "Most frequent client IP in an access log"
    difficulty = "medium"
    prompt = """\
`access.log` is a web server log in the common log format
(`IP - - [date] "METHOD PATH PROTOCOL" STATUS SIZE`). Considering only requests
whose status code equals the value on the `status:` line of TASK.md, find the
client IP address that made the most such requests (there is a unique one). Write
that IP address as the only line of `answer.txt`.
"""
    solution = """\
st=$(sed -n 's/^status: //p' TASK.md)
awk -v s="$st" '$9 == s { print $1 }' access.log | sort | uniq -c | sort -rn | head -n 1 \\
  | awk '{ print $2 }' > answer.txt
"""
    PATHS = ["/", "/index.html", "/api/items", "/login", "/static/app.js", "/images/logo.png"]

    def params(self, rng: random.Random) -> dict[str, Any]:
        found: set[str] = set()
        while len(found) < 10:
            a, b, c = rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254)
            found.add(rng.choice([f"10.{a}.{b}.{c}", f"192.168.{b}.{c}"]))
        ips = sorted(found)
        rng.shuffle(ips)
        status = rng.choice(["404", "500", "403", "503"])
        winner, runner_up = ips[0], ips[1]
        w = rng.randint(8, 15)
        entries = [(winner, status)] * w + [(runner_up, status)] * (w - 1)
        entries += [(runner_up, "200")] * 60  # the most requests of all, but not with status
        for ip in ips[2:]:
            entries += [(ip, status)] * rng.randint(0, w - 2) + [(ip, "200")] * rng.randint(5, 25)
        entries += [(winner, "200")] * rng.randint(0, 5)
        for ip in ips:
            entries += [(ip, rng.choice(["301", "302", "304"]))] * rng.randint(0, 3)
        rng.shuffle(entries)
        lines = []
        for i, (ip, code) in enumerate(entries):
            t = 1700000000 + 7 * i
            day, hour, minute = 14 + t // 86400 % 10, t // 3600 % 24, t // 60 % 60
            date = f"{day:02d}/Nov/2023:{hour:02d}:{minute:02d}:{t % 60:02d} +0000"
            request = f"{rng.choice(['GET', 'GET', 'POST'])} {rng.choice(self.PATHS)} HTTP/1.1"
            lines.append(f'{ip} - - [{date}] "{request}" {code} {rng.randint(100, 9000)}')
        return {"lines": lines, "status": status, "winner": winner}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        workspace.write("access.log", "".join(line + "\n" for line in p["lines"]))
        workspace.write("TASK.md", f"status: {p['status']}\n")

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        text = check.files.read_text("answer.txt", limit=65536)
        return text is not None and text.split() == [p["winner"]]


class CommRemovedUsers(Task):
    id = "comm_removed_users"
    title = "Users removed between two lists"
    difficulty = "easy"
    prompt = """\
`users_old.txt` and `users_new.txt` contain one username per line (unsorted, and
may contain duplicates). Write to `removed.txt` every username that appears in
users_old.txt but not in users_new.txt: each name once, sorted in ascending ASCII
order, one per line.
"""
    solution = """\
export LC_ALL=C
comm -23 <(sort -u users_old.txt) <(sort -u users_new.txt) > removed.txt
"""
    NAMES = ["ana", "bo", "cy", "di", "ed", "flo", "gus", "hal", "ida", "jo", "kai", "lu",
             "max", "nia", "oz", "pia", "ray", "sue", "tom", "uma", "val", "wes", "xia", "yul",
             "zed"]  # fmt: skip

    def params(self, rng: random.Random) -> dict[str, Any]:
        found: set[str] = set()
        while len(found) < 45:
            found.add(f"{rng.choice(self.NAMES)}{rng.randint(1, 99)}")
        users = sorted(found)
        old = rng.sample(users, 32)
        removed = rng.sample(old, rng.randint(5, 10))
        new = [u for u in old if u not in removed] + [u for u in users if u not in old][:8]
        old += [*rng.sample(old, 4), removed[0]]  # duplicates, one of them a removed name
        new += rng.sample(new, 3)
        rng.shuffle(old)
        rng.shuffle(new)
        return {"old": old, "new": new, "removed": sorted(removed)}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        workspace.write("users_old.txt", "\n".join(p["old"]) + "\n")
        workspace.write("users_new.txt", "\n".join(p["new"]) + "\n")

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        lines = output_lines(check, "removed.txt")
        return lines is not None and [line.strip() for line in lines] == p["removed"]


class CsvGroupSum(Task):
    id = "csv_group_sum"
    title = "Group and sum a CSV column"
    difficulty = "medium"
    prompt = """\
`sales.csv` has the header `date,region,product,amount` (amount is a decimal number
with two digits after the point; fields contain no commas). For the product named
on the `product:` line of TASK.md, compute the total amount per region. Write
`totals.csv` with the header line `region,total` followed by one line
`<region>,<total>` for every region that has at least one sale of that product,
sorted by region name (ascending ASCII), with the total written with exactly two
digits after the decimal point (e.g. `north,1234.50`).
"""
    solution = """\
p=$(sed -n 's/^product: //p' TASK.md)
{
  echo "region,total"
  awk -F, -v p="$p" 'NR > 1 && $3 == p { s[$2] += $4 } END { for (r in s) printf "%s,%.2f\\n", r, s[r] }' sales.csv \\
    | LC_ALL=C sort
} > totals.csv
"""  # noqa: E501
    REGIONS = ["north", "south", "east", "west", "central", "coastal", "highland"]
    PRODUCTS = ["widget", "gadget", "gizmo", "doohickey", "sprocket"]

    def params(self, rng: random.Random) -> dict[str, Any]:
        regions = rng.sample(self.REGIONS, 5)
        products = rng.sample(self.PRODUCTS, 3)
        target = products[0]
        rows = []  # date, region, product, amount in cents
        for _ in range(60):
            date = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            region, product = rng.choice(regions), rng.choice(products)
            rows.append([date, region, product, rng.randint(1000, 999999)])
        left_out = rng.choice(regions)  # a region without a sale of the product
        for row in rows:
            if row[1] == left_out and row[2] == target:
                row[2] = products[1]
        for region in regions:
            if region != left_out and not any(r[1] == region and r[2] == target for r in rows):
                date = f"2024-12-{rng.randint(1, 28):02d}"
                rows.append([date, region, target, rng.randint(1000, 999999)])
        return {"rows": rows, "product": target}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        lines = ["date,region,product,amount"]
        lines += [f"{d},{r},{product},{a // 100}.{a % 100:02d}" for d, r, product, a in p["rows"]]
        workspace.write("sales.csv", "".join(line + "\n" for line in lines))
        workspace.write("TASK.md", f"product: {p['product']}\n")

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        totals: dict[str, int] = {}
        for _, region, product, cents in p["rows"]:
            if product == p["product"]:
                totals[region] = totals.get(region, 0) + cents
        expected = ["region,total"]
        expected += [f"{r},{c // 100}.{c % 100:02d}" for r, c in sorted(totals.items())]
        lines = output_lines(check, "totals.csv")
        return lines is not None and [line.strip() for line in lines] == expected
