#!/bin/sh
# Fails the way trivy does when the registry refuses the pull: progress on stderr, the error last, exit 1.
echo "2026-11-20T09:14:03Z	INFO	Vulnerability scanning is enabled" >&2
echo "2026-11-20T09:14:04Z	FATAL	image scan error: unable to find the specified image: UNAUTHORIZED: authentication required" >&2
exit 1
