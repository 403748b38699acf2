"""Small tables shared by the report tests (a uniquely named module: other test folders have conftests too)."""

OLD = ["_", "a", "b", "c", "E", " ", "x"]
NEW = ["_", "b", "a", "c", " ", "e", "é", "sh", "z"]


def write_lines(path, lines):
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path
