# policy: libyaml for NetworkPolicy and workloads files.
PKGS += yaml-0.1
