#!/usr/bin/env bash
# Regenerates keys.example/data: a DEMO deployment's keys and config.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf data
ZHENGXIN_PASSPHRASE= go run ../cmd/zhengxin init --dir data --demo
rm -rf data/zhengxin.db* data/seals
