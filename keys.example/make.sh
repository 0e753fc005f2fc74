#!/usr/bin/env bash
# Regenerates keys.example/data: a DEMO deployment's keys and config.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf data
ZHENGXIN_PASSPHRASE= go run ../cmd/zhengxin init --dir data --demo
rm -rf data/zhengxin.db* data/seals
cat > data/DEMO-KEYS-NOT-SECRET.txt <<'TXT'
DEMO. Every key in this folder is a DEMO key, encrypted under the public
passphrase "zhengxin-DEMO-passphrase-not-secret". It protects nothing.
演示密钥，口令公开，勿用于任何真实用途。
This folder shows the layout only: the database and seals are left out, so
it is not a working data directory (make one with "zhengxin init").
TXT
