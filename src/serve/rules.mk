# serve: libmicrohttpd, libyaml (the config), and the web page. libmicrohttpd is opened at run
# time (mhd.c), so only its headers are needed here. The page's bundle is built by esbuild (from
# npm, pinned by package-lock.json) from an entry generated here: serve's shell (web/app.js), its
# live event list (web/alerts.js) and every feature's panel, any src/*/web/panel.js, so a feature
# adds its panel without editing serve. d3-geo, topojson-client and world-atlas come from the same
# node_modules (build/npm/serve, never in the source tree). embed.js inlines the bundle into
# index.html as $(BUILD)/gen/serve/page.h.
CPPFLAGS += $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
PKGS += yaml-0.1

SERVE_WEB := src/serve/web
SERVE_NPM := build/npm/serve
SERVE_PANELS := $(sort $(wildcard src/*/web/panel.js))

$(SERVE_NPM)/.stamp: $(SERVE_WEB)/package.json $(SERVE_WEB)/package-lock.json
	$(call msg,NPM,$(SERVE_NPM))
	$(Q)mkdir -p $(SERVE_NPM)
	$(Q)cp $^ $(SERVE_NPM)/
	$(Q)cd $(SERVE_NPM) && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	$(Q)touch $@

# The entry: rewritten only when the set of panels changes (make re-reads the wildcard).
$(BUILD)/gen/serve/entry.js: FORCE
	$(Q)mkdir -p $(@D)
	$(Q){ echo 'import { start } from "$(abspath $(SERVE_WEB)/app.js)";'; \
	      echo 'import alerts from "$(abspath $(SERVE_WEB)/alerts.js)";'; \
	      i=0; for p in $(abspath $(SERVE_PANELS)); do echo "import p$$i from \"$$p\";"; i=$$((i+1)); done; \
	      echo "start([$$(i=0; for p in $(SERVE_PANELS); do printf 'p%d, ' $$i; i=$$((i+1)); done)alerts]);"; \
	    } > $@.tmp
	$(Q)cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@

$(BUILD)/gen/serve/bundle.js: $(BUILD)/gen/serve/entry.js $(SERVE_WEB)/app.js $(SERVE_WEB)/alerts.js \
		$(SERVE_WEB)/dom.js \
		$(SERVE_PANELS) $(SERVE_NPM)/.stamp
	$(call msg,ESBUILD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)NODE_PATH=$(abspath $(SERVE_NPM))/node_modules $(SERVE_NPM)/node_modules/.bin/esbuild \
		$< --bundle --minify --format=iife --target=es2020 --log-level=warning \
		--outfile=$@

$(BUILD)/gen/serve/page.h: $(SERVE_WEB)/index.html $(BUILD)/gen/serve/bundle.js $(SERVE_WEB)/embed.js
	$(call msg,GEN,$@)
	$(Q)node $(SERVE_WEB)/embed.js $(SERVE_WEB)/index.html $(BUILD)/gen/serve/bundle.js $@

$(BUILD)/obj/serve/serve.o: $(BUILD)/gen/serve/page.h

.PHONY: FORCE
FORCE:
