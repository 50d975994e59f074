PKGS += ncursesw
