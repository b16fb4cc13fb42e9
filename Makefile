# nst: `make` builds build/libnst.a, build/nst, the tests and tools.
# `make test` runs the test suite; `make asan` runs it under ASan+UBSan.
CC ?= cc
BUILD ?= build
SAN ?=
OPT ?= -O2
PKG_CONFIG ?= pkg-config

REQUIRED_PKGS := libpng libjpeg libzip jansson zlib
# OpenBLAS is optional: without it the convolutions use the plain C kernels only.
HAVE_OPENBLAS := $(shell $(PKG_CONFIG) --exists openblas && echo 1)
# libhdf5 is optional: it reads Keras .h5 weights (Debian's libhdf5-dev ships hdf5.pc).
HAVE_HDF5 := $(shell $(PKG_CONFIG) --exists hdf5 && echo 1)
# FFmpeg's libraries are optional: video files for `nst video` (without them, picture
# sequences only). They and OpenCV are linked only into the video plugin,
# libnst-video.so, which libnst loads on first use (src/video/plugin.h).
FFMPEG_PKGS := libavformat libavcodec libswscale libavutil
HAVE_FFMPEG := $(shell $(PKG_CONFIG) --exists $(FFMPEG_PKGS) && echo 1)
# OpenCV is optional: optical flow (DIS) for `nst video`, behind one C++ file with a C
# interface (src/video/plugin/flow_dis.cpp). Only its core, imgproc and video modules are linked.
# Debian's opencv4.pc comes only with libopencv-dev (every module); with just
# libopencv-video-dev installed, look for the header and the three libraries instead.
CXX ?= c++
OPENCV_CFLAGS := $(shell $(PKG_CONFIG) --cflags opencv4 2>/dev/null || echo -I/usr/include/opencv4)
OPENCV_MODULES := -lopencv_video -lopencv_imgproc -lopencv_core
HAVE_OPENCV := $(shell { $(PKG_CONFIG) --exists opencv4 || \
    $(CXX) -E -x c++ $(OPENCV_CFLAGS) -include opencv2/video/tracking.hpp /dev/null >/dev/null 2>&1; } && \
    echo 'int main(){return 0;}' | $(CXX) -x c++ - -o /dev/null $(OPENCV_MODULES) 2>/dev/null && echo 1)
LIB_PKGS := $(REQUIRED_PKGS) $(if $(HAVE_OPENBLAS),openblas) $(if $(HAVE_HDF5),hdf5)
PKGS := $(LIB_PKGS) $(if $(HAVE_FFMPEG),$(FFMPEG_PKGS))
HAVE_VIDEO_PLUGIN := $(if $(HAVE_FFMPEG)$(HAVE_OPENCV),1)
# Where `make install` puts things; the video plugin's folder is also built in, as the
# last place the library looks for it.
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
# oneDNN is optional too (Debian ships no pkg-config file for it): the fast convolutions.
HAVE_DNNL := $(shell printf '\043include <oneapi/dnnl/dnnl.h>\nint main(void){return 0;}\n' | $(CC) -x c - -o /dev/null -ldnnl 2>/dev/null && echo 1)

CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L $(OPT) -g -Wall -Wextra -fopenmp \
          -Iinclude $(shell $(PKG_CONFIG) --cflags $(PKGS)) \
          $(if $(HAVE_OPENBLAS),-DNST_HAVE_OPENBLAS) $(if $(HAVE_DNNL),-DNST_HAVE_DNNL) \
          $(if $(HAVE_HDF5),-DNST_HAVE_HDF5) $(if $(HAVE_FFMPEG),-DNST_HAVE_FFMPEG) \
          $(if $(HAVE_OPENCV),-DNST_HAVE_OPENCV) -DNST_VIDEO_PLUGIN_DIR='"$(LIBDIR)/nst"' $(SAN) $(EXTRA_CFLAGS)
OPENCV_LIBS := $(if $(HAVE_OPENCV),$(OPENCV_MODULES) -lstdc++)
LDLIBS := $(shell $(PKG_CONFIG) --libs $(LIB_PKGS)) $(if $(HAVE_DNNL),-ldnnl) -ldl -lm -fopenmp $(SAN)
# The video plugin's own libraries.
VIDEO_LIBS := $(if $(HAVE_FFMPEG),$(shell $(PKG_CONFIG) --libs $(FFMPEG_PKGS))) $(OPENCV_LIBS) -lm $(SAN)
CXXFLAGS := -std=c++17 $(OPT) -g -Wall -Wextra -Iinclude $(if $(HAVE_OPENCV),$(OPENCV_CFLAGS)) \
            $(SAN) $(EXTRA_CXXFLAGS)
# giflib, for the CLI's --animate only: Debian ships no pkg-config file for it,
# so look for its header. Without it nst builds, and --animate says so.
HAVE_GIFLIB := $(shell $(CC) -E -include gif_lib.h -x c /dev/null >/dev/null 2>&1 && echo 1)
GIF_LIBS := $(if $(HAVE_GIFLIB),-lgif)
CFLAGS += $(if $(HAVE_GIFLIB),-DNST_HAVE_GIFLIB)

# The video plugin's sources (src/video/plugin/) are not libnst's.
PLUGIN_DIR := src/video/plugin
SRC := $(sort $(filter-out $(PLUGIN_DIR)/%,$(shell find src -name '*.c')))
OBJ := $(SRC:%.c=$(BUILD)/obj/%.o)
# The plugin: FFmpeg's side with FFmpeg, the C++ file (OpenCV's flow) with OpenCV, and
# the libnst pieces they call; libnst says "built without" for a half that is missing.
PLUGIN_SRC := $(PLUGIN_DIR)/entry.c $(if $(HAVE_FFMPEG),$(PLUGIN_DIR)/ffmpeg_read.c $(PLUGIN_DIR)/ffmpeg_write.c) \
              src/util/status.c src/util/atomic_file.c src/image/image.c
PLUGIN_CXX_SRC := $(if $(HAVE_OPENCV),$(PLUGIN_DIR)/flow_dis.cpp)
PLUGIN_OBJ := $(PLUGIN_SRC:%.c=$(BUILD)/pic/%.o) $(PLUGIN_CXX_SRC:%.cpp=$(BUILD)/pic/%.o)
VIDEO_PLUGIN := $(if $(HAVE_VIDEO_PLUGIN),$(BUILD)/libnst-video.so)
CLI_SRC := $(sort $(wildcard cli/*.c))
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TESTS := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(sort $(wildcard tools/*.c))
TOOLS := $(TOOL_SRC:tools/%.c=$(BUILD)/tools/%)

.PHONY: all test check asan analyze clean fixtures weights examples install uninstall FORCE
.SECONDARY:
all: $(BUILD)/nst $(TESTS) $(TOOLS) $(BUILD)/libnst.so $(BUILD)/examples/header_example $(BUILD)/nst-shared \
     $(VIDEO_PLUGIN)

# The library, tests and tools see the internal headers (src/); the CLI only the
# public one, include/nst.h, as a program built against the installed library does.
INTERNAL_INC := -Isrc
$(BUILD)/obj/%.o: %.c $(wildcard include/*.h) $(shell find src -name '*.h') $(wildcard cli/*.h tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INTERNAL_INC) -c $< -o $@

$(BUILD)/obj/cli/%.o: cli/%.c $(wildcard include/*.h) $(wildcard cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Icli -c $< -o $@

$(BUILD)/libnst.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/nst: $(CLI_OBJ) $(BUILD)/libnst.a
	$(CC) -o $@ $^ $(LDLIBS)
$(BUILD)/nst $(BUILD)/nst-shared $(BUILD)/tests/test_plot $(BUILD)/tests/test_options: LDLIBS += $(GIF_LIBS)
# test_video writes damaged videos with FFmpeg's libraries itself
$(BUILD)/tests/test_video: LDLIBS += $(if $(HAVE_FFMPEG),$(shell $(PKG_CONFIG) --libs $(FFMPEG_PKGS)))

# The same program linked against libnst.so, which exports only what nst.h declares:
# it links only if the CLI uses nothing else (tests/test_install.c runs it).
$(BUILD)/nst-shared: $(CLI_OBJ) $(BUILD)/libnst.so
	$(CC) -o $@ $(CLI_OBJ) -L$(BUILD) -lnst $(LDLIBS)

# The option table's test links the CLI's objects that read and write options.
CLI_LIB_OBJ := $(addprefix $(BUILD)/obj/cli/,options.o option_table.o option_values.o help.o config.o files.o)
$(BUILD)/obj/tests/test_options.o: INTERNAL_INC += -Icli
$(BUILD)/tests/test_options: $(BUILD)/obj/tests/test_options.o $(BUILD)/obj/tests/testlib.o $(CLI_LIB_OBJ) $(BUILD)/libnst.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDLIBS)

# (the video plugin too, which the tests load, but without relinking them when it changes)
$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(BUILD)/obj/tests/testlib.o $(BUILD)/libnst.a | $(VIDEO_PLUGIN)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDLIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tools/%.o $(BUILD)/libnst.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDLIBS)

# PyTorch reference fixtures (needs Debian's python3-torch, run by /usr/bin/python3).
FIXTURES ?= $(BUILD)/fixtures
fixtures: $(FIXTURES)/.done
FIXTURE_SCRIPTS := $(sort $(wildcard tests/fixtures/make_*.py))
$(FIXTURES)/.done: $(FIXTURE_SCRIPTS)
	@mkdir -p $(FIXTURES)
	set -e; for s in $(FIXTURE_SCRIPTS); do /usr/bin/python3 $$s $(FIXTURES); done
	@touch $@

test: all fixtures
	NST_FIXTURES=$(FIXTURES) tests/run_tests.sh $(BUILD)

# The README's test command: installs what is missing, builds, runs every test.
check:
	scripts/install-deps.sh
	$(MAKE) test

asan:
	$(MAKE) BUILD=build-asan FIXTURES=build/fixtures OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" test

# ---- Static analysis: `make analyze` ------------------------------------------------
# cppcheck on every C file, and the clang static analyzer (clang-tidy's clang-analyzer
# checks) on the library, the plugin, the program, the tools and the tests, each file with its own build's flags.
# Every complaint is an error: fixed, or suppressed where it is made with the reason
# (`// NOLINT(check): why`, `// cppcheck-suppress id`).
ANALYZE_C := $(sort $(SRC) $(PLUGIN_SRC) $(CLI_SRC) $(TOOL_SRC) $(TEST_SRC) tests/testlib.c)
ANALYZE_CXX := $(PLUGIN_CXX_SRC)
TIDY := clang-tidy --quiet --checks='-*,clang-analyzer-*,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling' --warnings-as-errors='*'
analyze: $(ANALYZE_C:%.c=$(BUILD)/analyze/%.ok) $(ANALYZE_CXX:%.cpp=$(BUILD)/analyze/%.ok)
	cppcheck -q -j2 --error-exitcode=1 --enable=warning,portability,performance --std=c11 --inline-suppr \
	    -D__GNUC__ -DNST_ANALYZE $(filter -D%,$(CFLAGS)) -Iinclude -Isrc -Icli $(ANALYZE_C)
	@echo "analyze: clang-tidy and cppcheck found nothing in $(words $(ANALYZE_C) $(ANALYZE_CXX)) files"
$(BUILD)/analyze/%.ok: %.c $(wildcard include/*.h) $(shell find src -name '*.h') $(wildcard cli/*.h tests/*.h)
	@mkdir -p $(dir $@)
	@echo "analyze $<"
	@$(TIDY) $< -- $(CFLAGS) -DNST_ANALYZE $(INTERNAL_INC) -Icli
	@touch $@
$(BUILD)/analyze/%.ok: %.cpp $(wildcard include/*.h) $(shell find src -name '*.h')
	@mkdir -p $(dir $@)
	@echo "analyze $<"
	@$(TIDY) $< -- $(CXXFLAGS) -DNST_ANALYZE -Isrc
	@touch $@

examples: $(BUILD)/tools/draw_examples
	$(BUILD)/tools/draw_examples examples

# make weights [MODEL=keras|torchvision|caffe-pth]: see scripts/fetch-weights.sh.
MODEL ?= keras
weights: $(BUILD)/nst
	NST_BIN=$(BUILD)/nst scripts/fetch-weights.sh $(MODEL)

clean:
	rm -rf build build-asan build-valgrind build-minimal

# ---- The shared library, the header's example, installation ----------------------
# libnst.so.MAJOR.MINOR.PATCH (the version in include/nst.h) with the SONAME
# libnst.so.MAJOR, from position-independent objects of their own; it exports
# only the functions declared in include/nst.h. Before 1.0 every minor version may
# change the ABI (nst_params grows), so the SONAME is libnst.so.0.MINOR then.
VERSION := $(shell sed -n 's/^\#define NST_VERSION "\([0-9.]*\)".*/\1/p' include/nst.h)
VERSION_WORDS := $(subst ., ,$(VERSION))
SOVERSION := $(if $(filter 0,$(word 1,$(VERSION_WORDS))),0.$(word 2,$(VERSION_WORDS)),$(word 1,$(VERSION_WORDS)))
SONAME := libnst.so.$(SOVERSION)
PIC_OBJ := $(SRC:%.c=$(BUILD)/pic/%.o)

$(BUILD)/pic/%.o: %.cpp $(wildcard include/*.h) $(shell find src -name '*.h')
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(INTERNAL_INC) -fPIC -c $< -o $@

$(BUILD)/pic/%.o: %.c $(wildcard include/*.h) $(shell find src -name '*.h')
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INTERNAL_INC) -fPIC -c $< -o $@

$(BUILD)/libnst.map: include/nst.h
	@mkdir -p $(dir $@)
	{ echo '{ global:'; sed -n '/^typedef/d; s/^[a-z].*[ *]\(nst_[a-z0-9_]*\)(.*/  \1;/p' $< | sort -u; \
	  echo 'local: *; };'; } > $@

$(BUILD)/libnst.so.$(VERSION): $(PIC_OBJ) $(BUILD)/libnst.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=$(BUILD)/libnst.map -Wl,-z,defs \
	    -o $@ $(PIC_OBJ) $(LDLIBS)

# The install's lib folder is built into plugin_load.c, the last place it looks for the
# video plugin: a stamp holding LIBDIR recompiles it when LIBDIR changes (test_install's
# install into a temporary prefix does; the next plain make puts the default back).
$(BUILD)/libdir.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(LIBDIR)' | cmp -s - $@ || echo '$(LIBDIR)' > $@
$(BUILD)/obj/src/video/plugin_load.o $(BUILD)/pic/src/video/plugin_load.o: $(BUILD)/libdir.stamp

# The video plugin exports only its table (src/video/plugin.h); its copies of libnst's
# pieces stay its own.
$(BUILD)/libnst-video.map:
	@mkdir -p $(dir $@)
	printf '{ global: nsti_video_plugin_entry; local: *; };\n' > $@

$(BUILD)/libnst-video.so: $(PLUGIN_OBJ) $(BUILD)/libnst-video.map
	$(CC) -shared -Wl,--version-script=$(BUILD)/libnst-video.map -Wl,-z,defs -o $@ $(PLUGIN_OBJ) $(VIDEO_LIBS)

$(BUILD)/$(SONAME): $(BUILD)/libnst.so.$(VERSION)
	ln -sf libnst.so.$(VERSION) $@

$(BUILD)/libnst.so: $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@

# The example program in the comment at the top of include/nst.h, between the
# lines "EXAMPLE BEGIN" and "EXAMPLE END", as a program (tests/test_install runs it).
$(BUILD)/examples/header_example.c: include/nst.h
	@mkdir -p $(dir $@)
	sed -n '/EXAMPLE BEGIN/,/EXAMPLE END/{/EXAMPLE BEGIN/d; /EXAMPLE END/d; s/^ \*   \{0,1\}//; s/^ \*$$//; p}' $< > $@

$(BUILD)/examples/header_example: $(BUILD)/examples/header_example.c $(BUILD)/libnst.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The sanitizer flags of this build, for the test that builds examples/embed
# against the installed library.
export NST_SAN_FLAGS := $(SAN)

DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL ?= install

install: $(BUILD)/nst $(BUILD)/libnst.a $(BUILD)/libnst.so $(VIDEO_PLUGIN)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 755 $(BUILD)/nst $(DESTDIR)$(BINDIR)/nst
	$(INSTALL) -m 644 $(BUILD)/libnst.a $(DESTDIR)$(LIBDIR)/libnst.a
	$(INSTALL) -m 755 $(BUILD)/libnst.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnst.so.$(VERSION)
	ln -sf libnst.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libnst.so
	$(if $(VIDEO_PLUGIN),$(INSTALL) -d $(DESTDIR)$(LIBDIR)/nst && \
	    $(INSTALL) -m 755 $(VIDEO_PLUGIN) $(DESTDIR)$(LIBDIR)/nst/libnst-video.so)
	$(INSTALL) -m 644 include/nst.h $(DESTDIR)$(INCLUDEDIR)/nst.h
	$(INSTALL) -m 644 man/nst.1 $(DESTDIR)$(MANDIR)/man1/nst.1
	$(INSTALL) -m 644 completions/nst $(DESTDIR)$(BASHCOMPDIR)/nst
	printf '%s\n' 'prefix=$(PREFIX)' 'exec_prefix=$${prefix}' \
	    'libdir=$(patsubst $(PREFIX)/%,$${exec_prefix}/%,$(LIBDIR))' \
	    'includedir=$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))' '' \
	    'Name: nst' 'Description: Neural style transfer (Gatys et al.) with VGG19 on the CPU' \
	    'Version: $(VERSION)' 'Requires.private: $(filter-out $(FFMPEG_PKGS),$(PKGS))' \
	    'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lnst' \
	    'Libs.private: $(if $(HAVE_DNNL),-ldnnl) -ldl -fopenmp -lm' > $(DESTDIR)$(PKGCONFIGDIR)/nst.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/nst.pc

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/nst $(DESTDIR)$(LIBDIR)/libnst.a $(DESTDIR)$(LIBDIR)/libnst.so \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libnst.so.$(VERSION) $(DESTDIR)$(INCLUDEDIR)/nst.h \
	    $(DESTDIR)$(PKGCONFIGDIR)/nst.pc $(DESTDIR)$(MANDIR)/man1/nst.1 $(DESTDIR)$(BASHCOMPDIR)/nst \
	    $(DESTDIR)$(LIBDIR)/nst/libnst-video.so
	rmdir $(DESTDIR)$(LIBDIR)/nst 2>/dev/null || true

# ---- Fuzzing and valgrind (tests/fuzz, scripts/fuzz.sh) ---------------------------
# `make fuzz` builds the libFuzzer harnesses with clang into build-fuzz/ and runs each
# for FUZZ_SECONDS (default 60); `make fuzz-long` runs each for 10 minutes. The
# library's sources are compiled again with -fsanitize=fuzzer-no-link,address,undefined
# so that libFuzzer sees their coverage; the harnesses link with -fsanitize=fuzzer.
FUZZ_CC ?= clang-14
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g -Wall -Wextra -Wno-unknown-pragmas -fopenmp \
               -Iinclude -Isrc -Icli $(shell $(PKG_CONFIG) --cflags $(PKGS)) \
               $(if $(HAVE_OPENBLAS),-DNST_HAVE_OPENBLAS) $(if $(HAVE_HDF5),-DNST_HAVE_HDF5) \
               $(if $(HAVE_FFMPEG),-DNST_HAVE_FFMPEG -DNST_VIDEO_STATIC) $(FUZZ_SAN)
FUZZ_LDLIBS := $(shell $(PKG_CONFIG) --libs $(PKGS)) -lm -fopenmp
# the video plugin's FFmpeg code is linked in (NST_VIDEO_STATIC), so libFuzzer sees it
FUZZ_LIB_OBJ := $(SRC:%.c=$(FUZZ_BUILD)/obj/%.o) \
                $(if $(HAVE_FFMPEG),$(addprefix $(FUZZ_BUILD)/obj/$(PLUGIN_DIR)/,entry.o ffmpeg_read.o ffmpeg_write.o)) \
                $(addprefix $(FUZZ_BUILD)/obj/cli/,options.o option_table.o option_values.o help.o)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))

.PHONY: fuzz fuzz-build fuzz-long fuzz-clean valgrind

$(FUZZ_BUILD)/obj/%.o: %.c $(wildcard include/*.h) $(shell find src -name '*.h') $(wildcard cli/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/libnst-fuzz.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_BUILD)/libnst-fuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libnst-fuzz.a $(FUZZ_LDLIBS)

# Writes the image seeds (tests/fuzz/make_corpus.py runs it); plain build, no sanitizers.
$(FUZZ_BUILD)/make_image_seeds: tests/fuzz/make_image_seeds.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g -Wall -Wextra -o $@ $< $(shell $(PKG_CONFIG) --cflags --libs libpng libjpeg)

fuzz-build: $(FUZZ_TARGETS) $(FUZZ_BUILD)/make_image_seeds

fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-long:
	scripts/fuzz.sh 600

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

# The hostile-input fixtures are regenerated when their generator changes.
$(FIXTURES)/.done: $(wildcard tests/hostile/*.py)

# A short real run under valgrind memcheck: 2 iterations at 32 px with the partial
# model, one thread, on the BLAS (else the plain C) convolutions: oneDNN's kernels are
# generated at run time, which memcheck cannot check usefully (and runs for more than
# 15 minutes). Only definite leaks count (OpenMP and OpenBLAS keep their thread pools
# until exit, reported as "possibly lost"); tests/hostile/valgrind.supp documents the
# suppressions.
VALGRIND_SHARED ?= ../shared
# FFmpeg's libavcodec loads libjxl and libhwy, whose start-up code valgrind 3.19 cannot
# run (an illegal instruction before main); they sit in the video plugin, which a
# picture run never loads.
valgrind: $(BUILD)/nst
	@mkdir -p $(BUILD)/valgrind
	valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
	    --show-leak-kinds=definite --track-origins=yes --suppressions=tests/hostile/valgrind.supp \
	    $(BUILD)/nst -c $(VALGRIND_SHARED)/images/tubingen.jpg -s $(VALGRIND_SHARED)/images/starry_night_crop.png \
	    -m $(VALGRIND_SHARED)/models/vgg19-conv1_1-conv3_4.caffe.safetensors \
	    -o $(BUILD)/valgrind/out.png --size 32 --iterations 2 --threads 1 --quiet \
	    --backend $(if $(HAVE_OPENBLAS),blas,reference)
	@echo "valgrind: clean"
