.PHONY: help run test check
help:           ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'
run:            ## run the store on http://127.0.0.1:8000 (embedded SQLite default)
	scripts/serve
test:           ## run the whole test suite (unit, contracts, integration, browser, deploy)
	scripts/test
check:          ## format, lint, types, import boundaries
	scripts/check
