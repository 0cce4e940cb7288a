#!/bin/sh
# Bootstrap (idempotent: installs or migrates), apply the schema in git, then serve.
set -e
node node_modules/directus/cli.js bootstrap
node node_modules/directus/cli.js schema apply --yes snapshot.yaml
exec node node_modules/directus/cli.js start
