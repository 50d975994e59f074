PKGS += json-c
