# policy: libyaml for NetworkPolicy and workloads files.
PKGS += yaml-0.1
# whatif reads recorded flows (JSON lines) with json-c
PKGS += json-c
