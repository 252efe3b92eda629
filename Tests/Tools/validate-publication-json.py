#!/usr/bin/python3
"""Validates every JSON document of a musikk-publish publication against the schemas in schemas/publish/,
with the python3-jsonschema package (Draft 2020-12). A JSON file no schema covers is an error too.

usage: validate-publication-json.py SCHEMAS_DIR PUBLICATION_DIR [FILE SCHEMA_NAME]...
With FILE SCHEMA_NAME pairs, validates just those files (the tests use it to show a schema rejects bad input).
Prints one line per problem and 'N documents valid'; exits 1 when any document is invalid."""
import json
import os
import re
import sys

import jsonschema

RULES = [
    (r"^api/index\.json$", "index"),
    (r"^api/search\.json$", "search"),
    (r"^api/(artists|releases|tracks)/page-[0-9]+\.json$", lambda m: m.group(1) + "-page"),
    (r"^api/artists/[0-9]+\.json$", "artist"),
    (r"^api/releases/[0-9]+\.json$", "release"),
    (r"^api/tracks/[0-9a-f]{20}\.json$", "track"),
    (r"^media/waveforms/[0-9a-f]{32}/waveform\.json$", "waveform"),
    (r"^publish\.json$", "publish"),
]


def schema_for(path):
    for pattern, name in RULES:
        match = re.match(pattern, path)
        if match:
            return name(match) if callable(name) else name
    return None


def main():
    schemas_dir, root = sys.argv[1], sys.argv[2]
    store = {}
    for name in os.listdir(schemas_dir):
        with open(os.path.join(schemas_dir, name)) as handle:
            schema = json.load(handle)
        jsonschema.Draft202012Validator.check_schema(schema)
        store[schema["$id"]] = schema
    by_name = {key.rsplit("/", 1)[1].removesuffix(".schema.json"): value for key, value in store.items()}

    if len(sys.argv) > 3:
        pairs = list(zip(sys.argv[3::2], sys.argv[4::2]))
    else:
        pairs = []
        for folder, _, files in os.walk(root):
            for name in files:
                if name.endswith(".json"):
                    path = os.path.relpath(os.path.join(folder, name), root)
                    pairs.append((path, schema_for(path)))

    problems = 0
    for path, name in sorted(pairs, key=lambda pair: pair[0]):
        if name is None:
            print(f"{path}: no schema covers this document")
            problems += 1
            continue
        schema = by_name[name]
        resolver = jsonschema.RefResolver(base_uri=schema["$id"], referrer=schema, store=store)
        validator = jsonschema.Draft202012Validator(
            schema, resolver=resolver, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        with open(os.path.join(root, path)) as handle:
            document = json.load(handle)
        for error in validator.iter_errors(document):
            where = "/".join(str(part) for part in error.absolute_path)
            print(f"{path} ({name}): {where}: {error.message}")
            problems += 1
    print(f"{len(pairs)} documents checked, {problems} problems")
    if problems == 0:
        print(f"{len(pairs)} documents valid")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
