# DZ_MISSING(WHAT, DEBIAN-PACKAGE): stop with a message that names the package.
AC_DEFUN([DZ_MISSING],
  [AC_MSG_ERROR([$1 not found; on Debian or Ubuntu install it with: apt-get install $2 (scripts/setup installs every dependency)])])

# DZ_CHECK_CFLAG(FLAG): append FLAG to WARN_CFLAGS when the compiler accepts it.
# Warnings go into AM_CFLAGS, so the user's CFLAGS come later and win.
AC_DEFUN([DZ_CHECK_CFLAG], [
  AC_MSG_CHECKING([whether $CC accepts $1])
  dz_save_cflags=$CFLAGS
  CFLAGS="$CFLAGS -Werror $1"
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
                    [AC_MSG_RESULT([yes]); WARN_CFLAGS="$WARN_CFLAGS $1"],
                    [AC_MSG_RESULT([no])])
  CFLAGS=$dz_save_cflags
])
