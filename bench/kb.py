"""Issue 16's knowledge-base search figure: `kb.queries.search_articles` over 10 000 articles, p95.

    .venv/bin/python bench/kb.py [--articles 10000] [--database-url URL] [--runs 300] [--keep]

1. Load: --articles published articles (85 % public, 15 % internal; 70 % English, the rest German,
   French, Spanish, Croatian and Norwegian), each a title of 3 to 7
   words and a Markdown body of 120 to 400 words from a 600-word help-desk vocabulary with a Zipf-like
   spread (common words match thousands of articles), rendered and sanitized as the service does,
   in 20 categories. Bulk-inserted (the search triggers and the generated column fill the index).
2. In-process, the one search every interface calls: a mix of one common word, two words, a word's
   start, a rare word, a typo (the fuzzy fallback), and no match, for the public and the agents, in
   a reader's language; one warm-up round, then --runs searches; p50/p95/p99 in milliseconds.

A fresh temporary data directory each run; PostgreSQL needs an empty database."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from customers import Latency, configure, database_vendor

BASE = ["account", "password", "reset", "sign", "login", "email", "invoice", "billing", "payment", "refund", "order", "shipping", "delivery", "tracking", "parcel", "return", "warranty", "printer", "network", "vpn", "wifi", "laptop", "phone", "app", "update", "install", "setup", "configure", "settings", "profile", "security", "two", "factor", "code", "error", "message", "crash", "slow", "backup", "restore", "file", "upload", "download", "share", "folder", "permission", "admin", "user", "team", "project", "task", "ticket", "report", "export", "import", "calendar", "meeting", "video", "audio", "camera", "microphone", "browser", "cache", "cookie", "certificate", "domain", "server", "database", "storage", "quota", "license", "subscription", "plan", "upgrade", "downgrade", "cancel", "renew", "contract", "address", "tax", "receipt", "currency", "card", "bank", "transfer", "discount", "coupon", "gift", "voucher", "product", "stock", "size", "color", "language", "region", "timezone", "notification", "alert", "reminder", "schedule", "holiday", "office", "remote", "keyboard", "mouse", "screen", "monitor", "driver", "scanner", "toner", "paper", "battery", "charger", "cable", "adapter", "router", "modem"]  # noqa: SIM905


def vocabulary(rng: random.Random) -> list[str]:
    words = list(BASE)
    while len(words) < 600:
        words.append("".join(rng.choice("abcdefghiklmnoprstuvwz") for _ in range(rng.randint(5, 10))))
    return words


def zipf(words: list[str], rng: random.Random) -> str:
    return words[min(len(words) - 1, int(rng.paretovariate(1.1)) - 1)]


def load(count: int, rng: random.Random) -> tuple[float, list[str]]:
    from django.db import connection, transaction

    from deskhand.core.actors import SYSTEM
    from deskhand.kb.inputs import CategoryInput
    from deskhand.kb.markdown import to_html, to_text
    from deskhand.kb.models import Article
    from deskhand.kb.services import create_category

    words = vocabulary(rng)
    rng.shuffle(words)
    started = time.perf_counter()
    categories = [create_category(CategoryInput(name=f"Category {n}"), actor=SYSTEM).pk for n in range(20)]
    languages = ["en"] * 14 + ["de", "de", "fr", "es", "hr", "nb"]
    batch: list[Article] = []
    for number in range(count):
        title = " ".join(zipf(words, rng) for _ in range(rng.randint(3, 7))).capitalize()
        paragraphs = [" ".join(zipf(words, rng) for _ in range(rng.randint(30, 80))) for _ in range(rng.randint(3, 5))]
        body = "\n\n".join(f"**{p}**" if i == 0 else p for i, p in enumerate(paragraphs))
        html = to_html(body)
        batch.append(Article(title=title, slug=f"article-{number}", category_id=rng.choice(categories), body=body,
                             body_html=html, body_text=to_text(html), status="published",
                             visibility="internal" if rng.random() < 0.15 else "public",
                             language=rng.choice(languages), tags=" ".join(rng.sample(words[:80], 2))))
        if len(batch) == 1000:
            with transaction.atomic():
                Article.objects.bulk_create(batch)
            batch = []
    if batch:
        Article.objects.bulk_create(batch)
    with connection.cursor() as cursor:  # each article its own group, as the service leaves it
        cursor.execute('UPDATE kb_article SET "group" = id')
        cursor.execute("ANALYZE")
    return time.perf_counter() - started, words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="deskhand-kb-bench-"))
    configure(data_dir, args.database_url or f"sqlite:///{data_dir / 'deskhand.sqlite3'}")
    rng = random.Random(16)
    seconds, words = load(args.articles, rng)

    from deskhand.kb.queries import search_articles

    common, rare = words[:10], words[300:400]
    queries = [
        ("one common word", lambda: rng.choice(common)),
        ("two words", lambda: f"{rng.choice(common)} {rng.choice(words[10:100])}"),
        ("a word's start", lambda: rng.choice(words[:200])[:4]),
        ("a rare word", lambda: rng.choice(rare)),
        ("a typo", lambda: (lambda w: w[:2] + w[3:])(rng.choice(BASE))),
        ("no match", lambda: "zzqx" + str(rng.randrange(1000))),
    ]
    overall = Latency("all searches")
    per_kind = {name: Latency(name) for name, _make in queries}
    for round_number in range(args.runs + len(queries)):
        name, make = queries[round_number % len(queries)]
        audience = "public" if round_number % 2 else "agent"
        language = rng.choice(["en", "de", "fr"])
        term = make()
        began = time.perf_counter()
        search_articles(term, audience=audience, language=language, limit=10)  # type: ignore[arg-type]
        elapsed = (time.perf_counter() - began) * 1000
        if round_number >= len(queries):  # the first round warms the caches
            overall.samples_ms.append(elapsed)
            per_kind[name].samples_ms.append(elapsed)
    result = {"database": database_vendor(), "articles": args.articles, "load_seconds": round(seconds, 1),
              "load_average": os.getloadavg()[0], "search": overall.summary(),
              "by_kind": [latency.summary() for latency in per_kind.values()]}
    print(json.dumps(result, indent=2))
    if not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    sys.exit(0 if overall.percentile(95) < 30 else 1)


if __name__ == "__main__":
    main()
