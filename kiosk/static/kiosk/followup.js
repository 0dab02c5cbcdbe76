/* Follow-up codes on the kiosk (core/services/followup.py describes them).
 *
 * The kiosk makes the code itself, also offline: 10 symbols of Crockford's base 32 (no I, L,
 * O or U) from crypto.getRandomValues (a byte & 31 is uniform: 256 is a multiple of 32),
 * 50 bits. Only its SHA-256 (hex) goes with the answer (followup_hash), through the queue
 * and the one door; the code itself is shown on the thank-you screen, grouped for reading
 * aloud and as a QR code of <public base>/phan-hoi/<code>, and forgotten at the next reset.
 * Nothing here is stored or sent but the hash.
 *
 * window.sipasFollowup:
 *   prepare(comment, contact) -> {code, hash} | null   a code is due for a comment kept on
 *                                                        the answer (no contact given)
 *   grouped(code) -> "7KQ2M-XR4TD"
 *   sha256(text) -> hex                                  (ASCII text)
 *   qr(text) -> {size, version, mask, modules: [[bool]]} byte mode, error correction M
 */
(function () {
  "use strict";

  var ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

  function newCode() {
    var bytes = new Uint8Array(10);
    window.crypto.getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) { out += ALPHABET.charAt(bytes[i] & 31); }
    return out;
  }

  function grouped(code) { return code.slice(0, 5) + "-" + code.slice(5); }

  // --- SHA-256 (FIPS 180-4), synchronous: works without a secure context --------------------
  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2];

  function sha256(text) {
    var bytes = [];
    for (var i = 0; i < text.length; i++) { bytes.push(text.charCodeAt(i) & 0xff); }
    var bitLen = bytes.length * 8;
    bytes.push(0x80);
    while (bytes.length % 64 !== 56) { bytes.push(0); }
    for (var s = 7; s >= 0; s--) { bytes.push(s >= 4 ? 0 : (bitLen >>> (s * 8)) & 0xff); }
    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var w = new Array(64);
    function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }
    for (var off = 0; off < bytes.length; off += 64) {
      for (var t = 0; t < 64; t++) {
        if (t < 16) {
          w[t] = (bytes[off + 4 * t] << 24) | (bytes[off + 4 * t + 1] << 16) |
                 (bytes[off + 4 * t + 2] << 8) | bytes[off + 4 * t + 3];
        } else {
          var s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
          var s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
          w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
        }
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
      for (t = 0; t < 64; t++) {
        var t1 = (k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
                  K[t] + w[t]) | 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
      h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + k) | 0;
    }
    return h.map(function (x) { return ("00000000" + (x >>> 0).toString(16)).slice(-8); }).join("");
  }

  // --- QR code (ISO/IEC 18004), byte mode, error correction level M, versions 1 to 10 ------
  // per version: [EC codewords per block, blocks of group 1, data codewords per block of
  // group 1, blocks of group 2 (one more data codeword each)]
  var EC_M = [null, [10, 1, 16, 0], [16, 1, 28, 0], [26, 1, 44, 0], [18, 2, 32, 0],
              [24, 2, 43, 0], [16, 4, 27, 0], [18, 4, 31, 0], [22, 2, 38, 2], [22, 3, 36, 2],
              [26, 4, 43, 1]];
  var ALIGN = [null, [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38],
               [6, 24, 42], [6, 26, 46], [6, 28, 50]];

  function gfMul(x, y) {
    var z = 0;
    for (var i = 7; i >= 0; i--) {
      z = (z << 1) ^ ((z >>> 7) * 0x11d);
      z ^= ((y >>> i) & 1) * x;
    }
    return z;
  }

  function rsDivisor(degree) {
    var result = [];
    for (var i = 0; i < degree - 1; i++) { result.push(0); }
    result.push(1);
    var root = 1;
    for (i = 0; i < degree; i++) {
      for (var j = 0; j < result.length; j++) {
        result[j] = gfMul(result[j], root);
        if (j + 1 < result.length) { result[j] ^= result[j + 1]; }
      }
      root = gfMul(root, 0x02);
    }
    return result;
  }

  function rsRemainder(data, divisor) {
    var result = divisor.map(function () { return 0; });
    data.forEach(function (b) {
      var factor = b ^ result.shift();
      result.push(0);
      divisor.forEach(function (coef, i) { result[i] ^= gfMul(coef, factor); });
    });
    return result;
  }

  function dataCapacity(v) {
    var e = EC_M[v];
    return e[1] * e[2] + e[3] * (e[2] + 1);
  }

  function codewords(bytes, v) {
    var cap = dataCapacity(v);
    var bits = [];
    function put(value, n) { for (var i = n - 1; i >= 0; i--) { bits.push((value >>> i) & 1); } }
    put(4, 4);
    put(bytes.length, v < 10 ? 8 : 16);
    bytes.forEach(function (b) { put(b, 8); });
    put(0, Math.min(4, cap * 8 - bits.length));
    while (bits.length % 8) { bits.push(0); }
    var data = [];
    for (var i = 0; i < bits.length; i += 8) {
      var b = 0;
      for (var j = 0; j < 8; j++) { b = (b << 1) | bits[i + j]; }
      data.push(b);
    }
    for (var pad = 0xec; data.length < cap; pad ^= 0xec ^ 0x11) { data.push(pad); }
    var e = EC_M[v], divisor = rsDivisor(e[0]), blocks = [], k = 0;
    for (i = 0; i < e[1] + e[3]; i++) {
      var len = e[2] + (i < e[1] ? 0 : 1);
      var block = data.slice(k, k + len);
      k += len;
      blocks.push({ data: block, ec: rsRemainder(block, divisor) });
    }
    var out = [];
    for (i = 0; i <= e[2]; i++) {
      blocks.forEach(function (bl) { if (i < bl.data.length) { out.push(bl.data[i]); } });
    }
    for (i = 0; i < e[0]; i++) { blocks.forEach(function (bl) { out.push(bl.ec[i]); }); }
    return out;
  }

  function formatBits(mask) {
    var data = (0 << 3) | mask;  // level M is 00
    var rem = data;
    for (var i = 0; i < 10; i++) { rem = (rem << 1) ^ ((rem >>> 9) * 0x537); }
    return ((data << 10) | rem) ^ 0x5412;
  }

  function masked(mask, x, y) {
    switch (mask) {
      case 0: return (x + y) % 2 === 0;
      case 1: return y % 2 === 0;
      case 2: return x % 3 === 0;
      case 3: return (x + y) % 3 === 0;
      case 4: return (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0;
      case 5: return (x * y) % 2 + (x * y) % 3 === 0;
      case 6: return ((x * y) % 2 + (x * y) % 3) % 2 === 0;
      default: return ((x + y) % 2 + (x * y) % 3) % 2 === 0;
    }
  }

  function build(v, words, mask) {
    var size = 17 + 4 * v, modules = [], fixed = [];
    for (var r = 0; r < size; r++) {
      modules.push(new Array(size).fill(false));
      fixed.push(new Array(size).fill(false));
    }
    function set(x, y, dark) { modules[y][x] = dark; fixed[y][x] = true; }
    for (var i = 0; i < size; i++) { set(6, i, i % 2 === 0); set(i, 6, i % 2 === 0); }
    [[3, 3], [size - 4, 3], [3, size - 4]].forEach(function (c) {
      for (var dy = -4; dy <= 4; dy++) {
        for (var dx = -4; dx <= 4; dx++) {
          var xx = c[0] + dx, yy = c[1] + dy, dist = Math.max(Math.abs(dx), Math.abs(dy));
          if (xx >= 0 && xx < size && yy >= 0 && yy < size) { set(xx, yy, dist !== 2 && dist !== 4); }
        }
      }
    });
    var al = ALIGN[v], last = al.length - 1;
    for (i = 0; i < al.length; i++) {
      for (var j = 0; j < al.length; j++) {
        if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) { continue; }
        for (var ay = -2; ay <= 2; ay++) {
          for (var ax = -2; ax <= 2; ax++) {
            set(al[i] + ax, al[j] + ay, Math.max(Math.abs(ax), Math.abs(ay)) !== 1);
          }
        }
      }
    }
    var fb = formatBits(mask);
    function bit(x, n) { return ((x >>> n) & 1) !== 0; }
    for (i = 0; i <= 5; i++) { set(8, i, bit(fb, i)); }
    set(8, 7, bit(fb, 6)); set(8, 8, bit(fb, 7)); set(7, 8, bit(fb, 8));
    for (i = 9; i < 15; i++) { set(14 - i, 8, bit(fb, i)); }
    for (i = 0; i < 8; i++) { set(size - 1 - i, 8, bit(fb, i)); }
    for (i = 8; i < 15; i++) { set(8, size - 15 + i, bit(fb, i)); }
    set(8, size - 8, true);
    if (v >= 7) {
      var rem = v;
      for (i = 0; i < 12; i++) { rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25); }
      var vb = (v << 12) | rem;
      for (i = 0; i < 18; i++) {
        var a = size - 11 + (i % 3), b = Math.floor(i / 3);
        set(a, b, bit(vb, i)); set(b, a, bit(vb, i));
      }
    }
    var n = 0;
    for (var right = size - 1; right >= 1; right -= 2) {
      if (right === 6) { right = 5; }
      for (var vert = 0; vert < size; vert++) {
        for (j = 0; j < 2; j++) {
          var x = right - j, upward = ((right + 1) & 2) === 0;
          var y = upward ? size - 1 - vert : vert;
          if (!fixed[y][x]) {
            var dark = n < words.length * 8 && bit(words[n >>> 3], 7 - (n & 7));
            modules[y][x] = dark !== masked(mask, x, y);
            n++;
          }
        }
      }
    }
    return modules;
  }

  // The usual penalty (runs, 2x2 blocks, finder-like patterns, balance): the mask chosen.
  function penalty(m) {
    var size = m.length, score = 0, dark = 0;
    function lines(get) {
      for (var a = 0; a < size; a++) {
        var run = 1, seq = "";
        for (var b = 0; b < size; b++) {
          var c = get(a, b);
          seq += c ? "1" : "0";
          if (b > 0 && c === get(a, b - 1)) {
            run++;
            if (run === 5) { score += 3; } else if (run > 5) { score++; }
          } else { run = 1; }
        }
        var re = /(?=(10111010000|00001011101))/g;
        while (re.exec(seq)) { score += 40; re.lastIndex++; }
      }
    }
    lines(function (a, b) { return m[a][b]; });
    lines(function (a, b) { return m[b][a]; });
    for (var y = 0; y < size; y++) {
      for (var x = 0; x < size; x++) {
        if (m[y][x]) { dark++; }
        if (y + 1 < size && x + 1 < size && m[y][x] === m[y][x + 1] &&
            m[y][x] === m[y + 1][x] && m[y][x] === m[y + 1][x + 1]) { score += 3; }
      }
    }
    return score + Math.floor(Math.abs(dark * 20 - size * size * 10) / (size * size)) * 10;
  }

  function qr(text, forceMask) {
    var bytes = [];
    var utf8 = unescape(encodeURIComponent(text));
    for (var i = 0; i < utf8.length; i++) { bytes.push(utf8.charCodeAt(i)); }
    var v = 1;
    while (v <= 10 && dataCapacity(v) < bytes.length + (v < 10 ? 2 : 3)) { v++; }
    if (v > 10) { return null; }
    var words = codewords(bytes, v), best = null;
    for (var mask = 0; mask < 8; mask++) {
      if (forceMask !== undefined && mask !== forceMask) { continue; }
      var modules = build(v, words, mask), p = penalty(modules);
      if (best === null || p < best.p) { best = { p: p, mask: mask, modules: modules }; }
    }
    return { size: best.modules.length, version: v, mask: best.mask, modules: best.modules };
  }

  // An SVG element of the QR code (1 unit = 1 module, a quiet zone of 4).
  function qrSvg(text, label) {
    var code = qr(text);
    if (!code) { return null; }
    var n = code.size + 8, d = "";
    code.modules.forEach(function (row, y) {
      for (var x = 0; x < row.length; x++) {
        if (!row[x]) { continue; }
        var start = x;
        while (x < row.length && row[x]) { x++; }
        d += "M" + (start + 4) + " " + (y + 4) + "h" + (x - start) + "v1h" + (start - x) + "z";
      }
    });
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + n + " " + n);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
    svg.setAttribute("shape-rendering", "crispEdges");
    var bg = document.createElementNS(ns, "rect");
    bg.setAttribute("width", n); bg.setAttribute("height", n); bg.setAttribute("fill", "#fff");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", d); path.setAttribute("fill", "#000");
    svg.appendChild(bg); svg.appendChild(path);
    return svg;
  }

  function prepare(comment, contact) {
    if (!window.crypto || !window.crypto.getRandomValues) { return null; }
    if (!String(comment || "").trim() || String(contact || "").trim()) { return null; }
    var code = newCode();
    return { code: code, hash: sha256(code) };
  }

  // The thank-you screen's box (#k-followup): the code, grouped, and its QR code; or hidden.
  function show(code) {
    var box = document.getElementById("k-followup");
    if (!box) { return false; }
    var value = box.querySelector("[data-followup-code]");
    var holder = box.querySelector(".followup-qr");
    holder.textContent = "";
    if (!code) { box.hidden = true; value.textContent = ""; return false; }
    value.textContent = grouped(code);
    var svg = qrSvg(box.dataset.base + code, box.dataset.qrLabel);
    if (svg) { holder.appendChild(svg); }
    box.hidden = false;
    return true;
  }

  window.sipasFollowup = { prepare: prepare, grouped: grouped, sha256: sha256, qr: qr, show: show };
}());
