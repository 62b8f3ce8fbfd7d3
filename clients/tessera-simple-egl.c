/*
 * tessera-simple-egl: a weston-style OpenGL ES 2 client. EGL and GL ES come
 * through libepoxy (which loads libEGL and libGLESv2 itself), on EGL's
 * Wayland platform (wayland-egl): whatever driver Mesa picks (llvmpipe
 * without a GPU, virgl in a guest with one) renders, and the buffers reach
 * the compositor as the driver hands them over (wl_drm or linux-dmabuf,
 * wl_shm for software).
 *
 * Draws a triangle turning over a plain background, one frame per frame
 * callback (eglSwapBuffers with swap interval 1), and prints the frames per
 * second every 5 seconds and at exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <epoxy/egl.h>
#include <epoxy/gl.h>
#include <wayland-client.h>
#include <wayland-egl.h>
#include "log.h"
#include "tessera-client.h"
#include "xdg-shell-client-protocol.h"

#define MAX_SURFACE_SIZE 8192
#define REPORT_SECONDS 5.0
#define EXIT_NO_EGL 3

struct simple_egl {
	struct tessera_client_simple_options opts; /* color: the background */

	struct wl_display *display;
	struct tessera_client_registry registry;
	struct tessera_client_global wanted[2];
	struct wl_compositor *compositor;
	struct xdg_wm_base *wm_base;
	struct tessera_client_window window;
	struct wl_egl_window *egl_window;

	EGLDisplay egl_display;
	EGLContext egl_context;
	EGLSurface egl_surface;
	GLuint program;
	GLint rotation_uniform;

	uint32_t frames;
	uint32_t frames_reported; /* frames at the last report */
	struct timespec start, last_report;
};

static volatile sig_atomic_t stop_requested;

static void handle_stop_signal(int signo) {
	(void)signo;
	stop_requested = 1;
}

static void usage(FILE *out, const char *argv0) {
	fprintf(out,
		"usage: %s [options]\n"
		"  --color RRGGBB  background colour (default 203040)\n"
		"  --size WxH      window size (default 250x250)\n"
		"  --frames N      exit after N frames (default: run until closed)\n"
		"  --title STR     xdg_toplevel title\n"
		"  --help          show this help\n",
		argv0);
}

static double seconds_between(const struct timespec *a, const struct timespec *b) {
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static const char *egl_error_string(void) {
	switch (eglGetError()) {
	case EGL_SUCCESS: return "no EGL error";
	case EGL_NOT_INITIALIZED: return "EGL_NOT_INITIALIZED";
	case EGL_BAD_ACCESS: return "EGL_BAD_ACCESS";
	case EGL_BAD_ALLOC: return "EGL_BAD_ALLOC";
	case EGL_BAD_ATTRIBUTE: return "EGL_BAD_ATTRIBUTE";
	case EGL_BAD_CONFIG: return "EGL_BAD_CONFIG";
	case EGL_BAD_CONTEXT: return "EGL_BAD_CONTEXT";
	case EGL_BAD_DISPLAY: return "EGL_BAD_DISPLAY";
	case EGL_BAD_MATCH: return "EGL_BAD_MATCH";
	case EGL_BAD_NATIVE_WINDOW: return "EGL_BAD_NATIVE_WINDOW";
	case EGL_BAD_PARAMETER: return "EGL_BAD_PARAMETER";
	case EGL_BAD_SURFACE: return "EGL_BAD_SURFACE";
	case EGL_CONTEXT_LOST: return "EGL_CONTEXT_LOST";
	default: return "an unknown EGL error";
	}
}

static const char vertex_source[] =
	"uniform mat4 rotation;\n"
	"attribute vec4 position;\n"
	"attribute vec4 color;\n"
	"varying vec4 v_color;\n"
	"void main() {\n"
	"  gl_Position = rotation * position;\n"
	"  v_color = color;\n"
	"}\n";

static const char fragment_source[] =
	"precision mediump float;\n"
	"varying vec4 v_color;\n"
	"void main() {\n"
	"  gl_FragColor = v_color;\n"
	"}\n";

static GLuint compile_shader(GLenum type, const char *source) {
	GLuint shader = glCreateShader(type);
	glShaderSource(shader, 1, &source, NULL);
	glCompileShader(shader);
	GLint ok = GL_FALSE;
	glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
	if (!ok) {
		char info[512];
		GLsizei len = 0;
		glGetShaderInfoLog(shader, sizeof(info), &len, info);
		tessera_log(TESSERA_ERROR, "cannot compile a shader: %.*s", (int)len, info);
		glDeleteShader(shader);
		return 0;
	}
	return shader;
}

static bool gl_init(struct simple_egl *client) {
	GLuint vertex = compile_shader(GL_VERTEX_SHADER, vertex_source);
	GLuint fragment = compile_shader(GL_FRAGMENT_SHADER, fragment_source);
	if (vertex == 0 || fragment == 0) {
		glDeleteShader(vertex);
		glDeleteShader(fragment);
		return false;
	}
	client->program = glCreateProgram();
	glAttachShader(client->program, vertex);
	glAttachShader(client->program, fragment);
	glBindAttribLocation(client->program, 0, "position");
	glBindAttribLocation(client->program, 1, "color");
	glLinkProgram(client->program);
	glDeleteShader(vertex);
	glDeleteShader(fragment);
	GLint ok = GL_FALSE;
	glGetProgramiv(client->program, GL_LINK_STATUS, &ok);
	if (!ok) {
		char info[512];
		GLsizei len = 0;
		glGetProgramInfoLog(client->program, sizeof(info), &len, info);
		tessera_log(TESSERA_ERROR, "cannot link the GL program: %.*s", (int)len, info);
		return false;
	}
	glUseProgram(client->program);
	client->rotation_uniform = glGetUniformLocation(client->program, "rotation");
	return true;
}

/* EGL on the Wayland platform, a GL ES 2 context and the window's surface.
 * false (logged) when EGL is missing or refuses. */
static bool egl_init(struct simple_egl *client) {
	if (epoxy_has_egl_extension(EGL_NO_DISPLAY, "EGL_EXT_platform_wayland") ||
			epoxy_has_egl_extension(EGL_NO_DISPLAY, "EGL_KHR_platform_wayland")) {
		client->egl_display = eglGetPlatformDisplayEXT(EGL_PLATFORM_WAYLAND_EXT,
			client->display, NULL);
	} else {
		client->egl_display = eglGetDisplay((EGLNativeDisplayType)client->display);
	}
	EGLint major = 0, minor = 0;
	if (client->egl_display == EGL_NO_DISPLAY ||
			!eglInitialize(client->egl_display, &major, &minor)) {
		tessera_log(TESSERA_ERROR, "cannot initialise EGL on the Wayland platform: %s "
			"(is Mesa's libegl-mesa0 installed?)", egl_error_string());
		client->egl_display = EGL_NO_DISPLAY;
		return false;
	}
	tessera_log(TESSERA_INFO, "EGL %d.%d, %s", major, minor,
		eglQueryString(client->egl_display, EGL_VENDOR));
	if (!eglBindAPI(EGL_OPENGL_ES_API)) {
		tessera_log(TESSERA_ERROR, "cannot use OpenGL ES through EGL: %s", egl_error_string());
		return false;
	}
	static const EGLint config_attribs[] = {
		EGL_SURFACE_TYPE, EGL_WINDOW_BIT,
		EGL_RED_SIZE, 8,
		EGL_GREEN_SIZE, 8,
		EGL_BLUE_SIZE, 8,
		EGL_ALPHA_SIZE, 0,
		EGL_RENDERABLE_TYPE, EGL_OPENGL_ES2_BIT,
		EGL_NONE,
	};
	/* EGL sorts deeper colours first (10-bit XRGB2101010 before 8-bit):
	 * take the first config of exactly 8 bits per colour */
	EGLConfig configs[64];
	EGLint count = 0;
	if (!eglChooseConfig(client->egl_display, config_attribs, configs, 64, &count) ||
			count < 1) {
		tessera_log(TESSERA_ERROR, "cannot find an EGL config for GL ES 2 windows: %s",
			count < 1 ? "none matches" : egl_error_string());
		return false;
	}
	EGLConfig config = NULL;
	for (EGLint i = 0; i < count && config == NULL; i++) {
		EGLint red = 0, green = 0, blue = 0;
		eglGetConfigAttrib(client->egl_display, configs[i], EGL_RED_SIZE, &red);
		eglGetConfigAttrib(client->egl_display, configs[i], EGL_GREEN_SIZE, &green);
		eglGetConfigAttrib(client->egl_display, configs[i], EGL_BLUE_SIZE, &blue);
		if (red == 8 && green == 8 && blue == 8) {
			config = configs[i];
		}
	}
	if (config == NULL) {
		tessera_log(TESSERA_ERROR, "cannot find an EGL config for GL ES 2 windows: "
			"none of %d has 8 bits per colour", count);
		return false;
	}
	static const EGLint context_attribs[] = {
		EGL_CONTEXT_CLIENT_VERSION, 2,
		EGL_NONE,
	};
	client->egl_context = eglCreateContext(client->egl_display, config, EGL_NO_CONTEXT,
		context_attribs);
	if (client->egl_context == EGL_NO_CONTEXT) {
		tessera_log(TESSERA_ERROR, "cannot create a GL ES 2 context: %s", egl_error_string());
		return false;
	}
	client->egl_window = wl_egl_window_create(client->window.surface, client->opts.width,
		client->opts.height);
	if (client->egl_window == NULL) {
		tessera_log(TESSERA_ERROR, "cannot create the wayland-egl window");
		return false;
	}
	client->egl_surface = eglCreateWindowSurface(client->egl_display, config,
		(EGLNativeWindowType)client->egl_window, NULL);
	if (client->egl_surface == EGL_NO_SURFACE) {
		tessera_log(TESSERA_ERROR, "cannot create the EGL window surface: %s",
			egl_error_string());
		return false;
	}
	if (!eglMakeCurrent(client->egl_display, client->egl_surface, client->egl_surface,
			client->egl_context)) {
		tessera_log(TESSERA_ERROR, "cannot make the GL context current: %s",
			egl_error_string());
		return false;
	}
	tessera_log(TESSERA_INFO, "GL renderer: %s", (const char *)glGetString(GL_RENDERER));
	/* swap interval 1: eglSwapBuffers waits for the frame callback */
	eglSwapInterval(client->egl_display, 1);
	return gl_init(client);
}

static bool redraw(struct simple_egl *client) {
	static const GLfloat vertices[3][2] = {
		{ -0.5f, -0.5f }, { 0.5f, -0.5f }, { 0.0f, 0.5f },
	};
	static const GLfloat colors[3][3] = {
		{ 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 },
	};
	/* one turn every 4 s at 60 frames/s */
	double angle = (double)(client->frames % 240) * (2.0 * M_PI / 240.0);
	GLfloat c = (GLfloat)cos(angle), s = (GLfloat)sin(angle);
	const GLfloat rotation[4][4] = {
		{ c, 0, s, 0 }, { 0, 1, 0, 0 }, { -s, 0, c, 0 }, { 0, 0, 0, 1 },
	};
	glViewport(0, 0, client->opts.width, client->opts.height);
	glUniformMatrix4fv(client->rotation_uniform, 1, GL_FALSE, &rotation[0][0]);
	glClearColor((GLfloat)((client->opts.color >> 16) & 0xff) / 255.0f,
		(GLfloat)((client->opts.color >> 8) & 0xff) / 255.0f,
		(GLfloat)(client->opts.color & 0xff) / 255.0f, 1.0f);
	glClear(GL_COLOR_BUFFER_BIT);
	glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, vertices);
	glVertexAttribPointer(1, 3, GL_FLOAT, GL_FALSE, 0, colors);
	glEnableVertexAttribArray(0);
	glEnableVertexAttribArray(1);
	glDrawArrays(GL_TRIANGLES, 0, 3);
	glDisableVertexAttribArray(0);
	glDisableVertexAttribArray(1);

	struct wl_region *opaque = wl_compositor_create_region(client->compositor);
	wl_region_add(opaque, 0, 0, client->opts.width, client->opts.height);
	wl_surface_set_opaque_region(client->window.surface, opaque);
	wl_region_destroy(opaque);
	if (!eglSwapBuffers(client->egl_display, client->egl_surface)) {
		tessera_log(TESSERA_ERROR, "cannot swap buffers: %s", egl_error_string());
		return false;
	}
	client->frames++;

	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double since = seconds_between(&client->last_report, &now);
	if (since >= REPORT_SECONDS) {
		uint32_t n = client->frames - client->frames_reported;
		printf("%" PRIu32 " frames in %.2f s: %.1f frames/s\n", n, since, n / since);
		fflush(stdout);
		client->frames_reported = client->frames;
		client->last_report = now;
	}
	return true;
}

static void window_configure(void *data, int32_t width, int32_t height) {
	struct simple_egl *client = data;
	if (width > 0 && height > 0 && width <= MAX_SURFACE_SIZE && height <= MAX_SURFACE_SIZE) {
		client->opts.width = width;
		client->opts.height = height;
		if (client->egl_window != NULL) {
			wl_egl_window_resize(client->egl_window, width, height, 0, 0);
		}
	}
}

static void window_close(void *data) {
	(void)data;
	stop_requested = 1;
}

static const struct tessera_client_window_impl window_impl = {
	.configure = window_configure,
	.close = window_close,
};

static void simple_egl_finish(struct simple_egl *client) {
	if (client->egl_display != EGL_NO_DISPLAY) {
		eglMakeCurrent(client->egl_display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
		if (client->egl_surface != EGL_NO_SURFACE) {
			eglDestroySurface(client->egl_display, client->egl_surface);
		}
		if (client->egl_context != EGL_NO_CONTEXT) {
			eglDestroyContext(client->egl_display, client->egl_context);
		}
		eglTerminate(client->egl_display);
		eglReleaseThread();
	}
	if (client->egl_window != NULL) {
		wl_egl_window_destroy(client->egl_window);
	}
	tessera_client_window_finish(&client->window);
	tessera_client_disconnect(client->display, &client->registry);
}

int main(int argc, char *argv[]) {
	tessera_log_init(TESSERA_ERROR, NULL);

	struct simple_egl client = {
		.opts = {
			.color = 0x203040,
			.width = 250,
			.height = 250,
			.max_size = MAX_SURFACE_SIZE,
			.title = "tessera-simple-egl",
			.usage = usage,
		},
		.egl_display = EGL_NO_DISPLAY,
		.egl_context = EGL_NO_CONTEXT,
		.egl_surface = EGL_NO_SURFACE,
	};
	int ret = tessera_client_parse_simple_options(&client.opts, argc, argv, NULL);
	if (ret != 0) {
		return ret < 0 ? 0 : ret;
	}
	/* epoxy loads libEGL on its first call and aborts without it: look first */
	if (!epoxy_has_egl()) {
		tessera_log(TESSERA_ERROR, "cannot load EGL: no libEGL.so.1 "
			"(install libegl1 and Mesa's libegl-mesa0)");
		return EXIT_NO_EGL;
	}

	/* SIGTERM or SIGINT ends the loop after the current frame; a second
	 * one, should a frame never come, ends the program */
	struct sigaction action = { .sa_handler = handle_stop_signal, .sa_flags = SA_RESETHAND };
	sigemptyset(&action.sa_mask);
	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGINT, &action, NULL);

	ret = 1;
	client.display = wl_display_connect(NULL);
	if (client.display == NULL) {
		tessera_log_errno(TESSERA_ERROR, "cannot connect to the Wayland compositor");
		goto out;
	}
	client.wanted[0] = (struct tessera_client_global){ &wl_compositor_interface, 4, 4,
		(void **)&client.compositor, NULL, NULL };
	client.wanted[1] = (struct tessera_client_global){ &xdg_wm_base_interface, 1, 1,
		(void **)&client.wm_base, &tessera_client_wm_base_listener, NULL };
	tessera_client_registry_init(&client.registry, client.display, client.wanted, 2);
	if (!tessera_client_roundtrip(client.display)) {
		goto out;
	}
	if (!tessera_client_registry_check(&client.registry)) {
		goto out;
	}
	tessera_client_window_init(&client.window, client.compositor, client.wm_base,
		client.opts.title, &window_impl, &client);
	xdg_toplevel_set_app_id(client.window.xdg_toplevel, "tessera-simple-egl");
	wl_surface_commit(client.window.surface);
	while (!client.window.configured && !stop_requested) {
		if (wl_display_dispatch(client.display) < 0) {
			tessera_log_errno(TESSERA_ERROR, "lost the connection to the compositor");
			goto out;
		}
	}
	if (!egl_init(&client)) {
		ret = EXIT_NO_EGL;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &client.start);
	client.last_report = client.start;
	ret = 0;
	while (!stop_requested) {
		if (wl_display_dispatch_pending(client.display) < 0) {
			tessera_log_errno(TESSERA_ERROR, "lost the connection to the compositor");
			ret = 1;
			break;
		}
		if (!redraw(&client)) {
			ret = 1;
			break;
		}
		if (client.opts.frames != 0 && client.frames >= client.opts.frames) {
			printf("done %" PRIu32 "\n", client.frames);
			break;
		}
	}
	if (client.frames > 0) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		double seconds = seconds_between(&client.start, &now);
		printf("%" PRIu32 " frames in %.2f s: %.1f frames/s\n", client.frames, seconds,
			seconds > 0 ? client.frames / seconds : 0.0);
	}

out:
	simple_egl_finish(&client);
	return ret;
}
