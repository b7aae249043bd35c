# Sourced by the compare_*.sh scripts: JDK, the benchmark jar (rebuilt when stale), an output folder.
# Sets JAVA, JAR and OUT; expects REBUILD (0/1) and the current directory at the repository root.

. .mvn/jdk25.sh
flexmoe_find_jdk25 || { echo "no JDK 25 found (set JAVA_HOME)" >&2; exit 1; }
JAVA=$JAVA_HOME/bin/java
JAR=benchmarks/target/flexmoe-benchmarks.jar

# Build when the jar is missing or older than any source it is made from.
if [[ ${REBUILD:-0} == 1 || ! -f $JAR ]] || [[ -n $(find tornado-kernels/src/main dp moe/src/main benchmarks/src \
      benchmarks/pom.xml tornado-kernels/pom.xml pom.xml -newer "$JAR" -type f 2>/dev/null | head -1) ]]; then
  echo "building $JAR ..."
  ./mvnw -q -B -pl benchmarks -am package -DskipTests
fi

OUT=benchmarks/target/compare-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
echo "results in $OUT"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load: $(cut -d' ' -f1-3 /proc/loadavg)"
