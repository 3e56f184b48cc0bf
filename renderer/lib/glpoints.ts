/**
 * Draws many points with raw WebGL2 (gl.POINTS), falling back to Canvas 2D where WebGL2 is
 * missing. Positions stay in data space; the camera is a uniform, so pan/zoom only redraws.
 */
import type { Camera } from './spatial.js';

const VS = `#version 300 es
in vec2 a_pos;
in vec4 a_color;
uniform vec2 u_center;
uniform float u_scale;
uniform vec2 u_size;
uniform float u_point;
out vec4 v_color;
void main() {
  vec2 p = (a_pos - u_center) * u_scale / (u_size * 0.5);
  gl_Position = vec4(p, 0.0, 1.0);
  float sel = a_color.a;
  gl_PointSize = sel > 0.5 ? u_point + 3.0 : u_point;
  v_color = vec4(a_color.rgb, sel);
}`;

const FS = `#version 300 es
precision mediump float;
in vec4 v_color;
uniform float u_dim;
out vec4 outColor;
void main() {
  vec2 c = gl_PointCoord - 0.5;
  float d = length(c);
  if (d > 0.5) discard;
  float a = smoothstep(0.5, 0.38, d);
  bool sel = v_color.a > 0.5;
  vec3 col = sel && d > 0.3 ? vec3(1.0) : v_color.rgb;
  float alpha = sel ? 1.0 : (u_dim > 0.5 ? 0.25 : 0.85);
  outColor = vec4(col * a * alpha, a * alpha);
}`;

export interface PointRenderer {
  readonly kind: 'webgl2' | 'canvas2d';
  setPoints(xy: Float32Array, rgb: Float32Array): void;
  setSelected(flags: Uint8Array): void;
  draw(cam: Camera, width: number, height: number, dpr: number, pointSize: number, dimUnselected: boolean): void;
  dispose(): void;
}

export function createPointRenderer(canvas: HTMLCanvasElement): PointRenderer {
  const gl = canvas.getContext('webgl2', { antialias: false, premultipliedAlpha: true, alpha: true });
  return gl ? webgl(gl) : canvas2d(canvas);
}

function compile(gl: WebGL2RenderingContext, type: number, src: string): WebGLShader {
  const s = gl.createShader(type)!;
  gl.shaderSource(s, src);
  gl.compileShader(s);
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s) ?? 'shader error');
  return s;
}

function webgl(gl: WebGL2RenderingContext): PointRenderer {
  const prog = gl.createProgram()!;
  gl.attachShader(prog, compile(gl, gl.VERTEX_SHADER, VS));
  gl.attachShader(prog, compile(gl, gl.FRAGMENT_SHADER, FS));
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(prog) ?? 'link error');
  const vao = gl.createVertexArray();
  const posBuf = gl.createBuffer();
  const colBuf = gl.createBuffer();
  const u = (n: string) => gl.getUniformLocation(prog, n);
  const loc = { center: u('u_center'), scale: u('u_scale'), size: u('u_size'), point: u('u_point'), dim: u('u_dim') };
  let count = 0;
  let colors: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  gl.bindVertexArray(vao);
  const aPos = gl.getAttribLocation(prog, 'a_pos');
  const aCol = gl.getAttribLocation(prog, 'a_color');
  gl.bindBuffer(gl.ARRAY_BUFFER, posBuf);
  gl.enableVertexAttribArray(aPos);
  gl.vertexAttribPointer(aPos, 2, gl.FLOAT, false, 0, 0);
  gl.bindBuffer(gl.ARRAY_BUFFER, colBuf);
  gl.enableVertexAttribArray(aCol);
  gl.vertexAttribPointer(aCol, 4, gl.UNSIGNED_BYTE, true, 0, 0);
  gl.bindVertexArray(null);

  return {
    kind: 'webgl2',
    setPoints(xy, rgb) {
      count = xy.length >> 1;
      gl.bindBuffer(gl.ARRAY_BUFFER, posBuf);
      gl.bufferData(gl.ARRAY_BUFFER, xy, gl.STATIC_DRAW);
      colors = new Uint8Array(count * 4);
      for (let i = 0; i < count; i++) {
        colors[4 * i] = Math.round(rgb[3 * i]! * 255);
        colors[4 * i + 1] = Math.round(rgb[3 * i + 1]! * 255);
        colors[4 * i + 2] = Math.round(rgb[3 * i + 2]! * 255);
        colors[4 * i + 3] = 0;
      }
      gl.bindBuffer(gl.ARRAY_BUFFER, colBuf);
      gl.bufferData(gl.ARRAY_BUFFER, colors, gl.DYNAMIC_DRAW);
    },
    setSelected(flags) {
      for (let i = 0; i < count; i++) colors[4 * i + 3] = flags[i] ? 255 : 0;
      gl.bindBuffer(gl.ARRAY_BUFFER, colBuf);
      gl.bufferSubData(gl.ARRAY_BUFFER, 0, colors);
    },
    draw(cam, width, height, dpr, pointSize, dim) {
      gl.viewport(0, 0, Math.round(width * dpr), Math.round(height * dpr));
      gl.clearColor(0, 0, 0, 0);
      gl.clear(gl.COLOR_BUFFER_BIT);
      if (!count) return;
      gl.enable(gl.BLEND);
      gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
      gl.useProgram(prog);
      gl.uniform2f(loc.center, cam.cx, cam.cy);
      gl.uniform1f(loc.scale, cam.scale);
      gl.uniform2f(loc.size, width, height);
      gl.uniform1f(loc.point, pointSize * dpr);
      gl.uniform1f(loc.dim, dim ? 1 : 0);
      gl.bindVertexArray(vao);
      gl.drawArrays(gl.POINTS, 0, count);
      gl.bindVertexArray(null);
    },
    dispose() {
      gl.deleteBuffer(posBuf);
      gl.deleteBuffer(colBuf);
      gl.deleteVertexArray(vao);
      gl.deleteProgram(prog);
    },
  };
}

function canvas2d(canvas: HTMLCanvasElement): PointRenderer {
  const ctx = canvas.getContext('2d');
  let xy: Float32Array = new Float32Array(0);
  let rgb: Float32Array = new Float32Array(0);
  let sel: Uint8Array = new Uint8Array(0);
  return {
    kind: 'canvas2d',
    setPoints(p, c) {
      xy = p;
      rgb = c;
      sel = new Uint8Array(p.length >> 1);
    },
    setSelected(f) {
      sel = f;
    },
    draw(cam, width, height, dpr, pointSize, dim) {
      if (!ctx) return;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, width, height);
      const n = xy.length >> 1;
      const r = pointSize / 2;
      ctx.globalAlpha = dim ? 0.25 : 0.85;
      for (const pass of [0, 1]) {
        for (let i = 0; i < n; i++) {
          if ((sel[i] ? 1 : 0) !== pass) continue;
          const sx = (xy[2 * i]! - cam.cx) * cam.scale + width / 2;
          const sy = height / 2 - (xy[2 * i + 1]! - cam.cy) * cam.scale;
          if (sx < -r || sy < -r || sx > width + r || sy > height + r) continue;
          ctx.fillStyle = `rgb(${rgb[3 * i]! * 255},${rgb[3 * i + 1]! * 255},${rgb[3 * i + 2]! * 255})`;
          const rr = pass ? r + 1.5 : r;
          ctx.fillRect(sx - rr, sy - rr, rr * 2, rr * 2);
        }
        ctx.globalAlpha = 1;
      }
    },
    dispose() {},
  };
}
