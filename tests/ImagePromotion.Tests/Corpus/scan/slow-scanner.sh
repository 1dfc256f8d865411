#!/bin/sh
# Hangs like a scanner stuck downloading its database.
exec sleep 30
