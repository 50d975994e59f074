# guard: libyaml for the rule files, and ebee's default rules (default_rules.yaml) embedded as a
# C array generated into $(BUILD)/gen/guard/default_rules.h (with od, coreutils: xxd is not on a
# minimal Debian).
PKGS += yaml-0.1

$(BUILD)/gen/guard/default_rules.h: src/guard/default_rules.yaml
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q){ echo 'static const char default_rules_yaml[] = {'; \
	      od -An -v -tx1 $< | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; echo '0 };'; } > $@.tmp
	$(Q)mv $@.tmp $@

$(BUILD)/obj/guard/guard.o: $(BUILD)/gen/guard/default_rules.h
