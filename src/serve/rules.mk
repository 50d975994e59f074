# serve: libmicrohttpd, and the web page. esbuild (from npm, pinned by package-lock.json)
# bundles app.js with d3-geo, topojson-client and world-atlas; embed.js inlines the bundle into
# index.html and writes it as $(BUILD)/gen/serve/page.h, compiled into the binary. node_modules
# live in build/npm/serve, never in the source tree.
PKGS += libmicrohttpd

SERVE_WEB := src/serve/web
SERVE_NPM := build/npm/serve

$(SERVE_NPM)/.stamp: $(SERVE_WEB)/package.json $(SERVE_WEB)/package-lock.json
	$(call msg,NPM,$(SERVE_NPM))
	$(Q)mkdir -p $(SERVE_NPM)
	$(Q)cp $^ $(SERVE_NPM)/
	$(Q)cd $(SERVE_NPM) && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	$(Q)touch $@

$(BUILD)/gen/serve/bundle.js: $(SERVE_WEB)/app.js $(SERVE_NPM)/.stamp
	$(call msg,ESBUILD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)NODE_PATH=$(abspath $(SERVE_NPM))/node_modules $(SERVE_NPM)/node_modules/.bin/esbuild \
		$< --bundle --minify --format=iife --target=es2020 --log-level=warning \
		--outfile=$@

$(BUILD)/gen/serve/page.h: $(SERVE_WEB)/index.html $(BUILD)/gen/serve/bundle.js $(SERVE_WEB)/embed.js
	$(call msg,GEN,$@)
	$(Q)node $(SERVE_WEB)/embed.js $(SERVE_WEB)/index.html $(BUILD)/gen/serve/bundle.js $@

$(BUILD)/obj/serve/serve.o: $(BUILD)/gen/serve/page.h
PKGS += yaml-0.1
