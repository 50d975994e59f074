# guard: libyaml for the rule files, and ebee's default rules (default_rules.yaml) embedded as a
# C array generated into $(BUILD)/gen/guard/default_rules.h.
PKGS += yaml-0.1

$(BUILD)/gen/guard/default_rules.h: src/guard/default_rules.yaml
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q){ echo 'static const char default_rules_yaml[] = {'; xxd -i < $<; echo ', 0 };'; } > $@

$(BUILD)/obj/guard/guard.o: $(BUILD)/gen/guard/default_rules.h
