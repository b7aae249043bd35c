# Sourced by ./mvnw and ./flexmoe: the one place that finds a JDK 25 (the project targets JDK 25; many
# machines default to an older java). Sets JAVA_HOME to the first JDK 25 among JAVA_HOME,
# FLEXMOE_JAVA_HOME and the usual system folders; leaves JAVA_HOME as it was and returns 1 if none.
flexmoe_is_jdk25() {
  [ -n "$1" ] && [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | grep -q '^ *java\.specification\.version = 25$'
}
flexmoe_find_jdk25() {
  local c noglob=0
  # mvnw runs with `set -f`; the folder patterns below need globbing.
  case $- in *f*) noglob=1; set +f ;; esac
  for c in "${JAVA_HOME:-}" "${FLEXMOE_JAVA_HOME:-}" /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* \
           /Library/Java/JavaVirtualMachines/*/Contents/Home "$HOME"/.sdkman/candidates/java/*; do
    if flexmoe_is_jdk25 "$c"; then
      JAVA_HOME="$c"
      export JAVA_HOME
      [ "$noglob" = 0 ] || set -f
      return 0
    fi
  done
  [ "$noglob" = 0 ] || set -f
  return 1
}
