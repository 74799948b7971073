// Puzzle Arena's pzpr.js worker: one long-lived Node process that opens puzz.link puzzles, replays moves or
// writes answer grids onto cleared boards, and runs pzpr's own checker, for whole batches at a time.
//
// Protocol: one JSON request per line on stdin, one JSON reply per line on stdout:
//   {"id": 7, "op": "verify", "items": [{"url": "...", "moves": ["mouse,left,1,1", ...]}, ...]}
//   -> {"id": 7, "ok": true, "result": [{"complete": false, "code": "bkNoNum", "en": "...", "ja": "..."}, ...]}
// Puzzle text only ever travels as JSON data: nothing from a request becomes JavaScript source.
// The process exits when stdin closes, so it cannot outlive the Python process that started it.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');
const vm = require('vm');

const pzprPath = process.argv[2];
if (!pzprPath) {
  process.stderr.write('usage: node worker.js PATH/TO/pzpr.js\n');
  process.exit(2);
}
const pzpr = require(pzprPath);
const samplesDir = path.join(path.dirname(pzprPath), 'pzpr-samples');

// ---------------------------------------------------------------------------------------------------------
// Puzzles, cached by URL: opening one costs milliseconds, clearing its answer costs microseconds.
const CACHE_SIZE = 512;
const MAX_BOARD_SIDE = 100; // cells per side (the golden set's largest board is 29 x 29)
const cache = new Map();

function openPuzzle(url) {
  if (typeof url !== 'string' || url.length === 0 || url.length > 20000) {
    throw new UserError('the puzzle URL must be a non-empty string');
  }
  let puzzle = cache.get(url);
  if (puzzle === undefined) {
    // the size is read from the URL before a board is built: a 3000 x 3000 board would take Node minutes
    const size = pzpr.parser.parseURL(url);
    if (!(size.cols <= MAX_BOARD_SIDE && size.rows <= MAX_BOARD_SIDE)) {
      throw new UserError(`the board is ${size.cols} x ${size.rows} cells; at most ${MAX_BOARD_SIDE} x ${MAX_BOARD_SIDE}`);
    }
  }
  if (puzzle !== undefined) {
    cache.delete(url); // re-insert: most recently used last
  } else {
    puzzle = new pzpr.Puzzle();
    puzzle.open(url);
    if (!puzzle.pid || !puzzle.board || puzzle.board.cols <= 0) {
      throw new UserError(`pzpr could not open ${JSON.stringify(url.slice(0, 200))}`);
    }
    puzzle.setMode('play');
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value);
  }
  cache.set(url, puzzle);
  return puzzle;
}

function clearAnswer(puzzle) {
  puzzle.ansclear();
  if (puzzle.pid === 'tontonbeya') runMouse(puzzle, ['mouse', 'left', '0', '0']); // its answer starts with a click
  puzzle.opemgr.allerase(); // drop the undo history so a cached puzzle does not grow
}

class UserError extends Error {}

// ---------------------------------------------------------------------------------------------------------
// Moves: the play-mode subset of puzz.link's input language. Anything that edits the question (editmode,
// newboard, setconfig, clear, ...) is refused, so an answer can only change the answer layer.
const NUMBER = /^-?\d+(\.\d+)?$/;
const BUTTON = /^(left|right)(x([1-9]))?$/;
const KEY = /^([0-9a-zA-Z+\-. ]|BS|up|down|left|right|shift)$/;

function checkMove(puzzle, move) {
  if (typeof move !== 'string') return 'a move must be a string';
  if (move.length === 0 || move.length > 4000) return 'a move must have 1..4000 characters';
  const maxX = 2 * puzzle.board.cols, maxY = 2 * puzzle.board.rows;
  for (const action of move.split(';')) {
    const parts = action.split(',');
    const kind = parts[0];
    if (kind === 'mouse') {
      const buttons = (parts[1] || '').split('+');
      const button = buttons[buttons.length - 1];
      if (!BUTTON.test(button) || buttons.slice(0, -1).some((b) => b !== 'alt')) {
        return `unknown mouse button ${JSON.stringify(parts[1] || '')} (use left, right, leftx2, alt+left, ...)`;
      }
      const coords = parts.slice(2);
      if (coords.length < 2 || coords.length % 2 !== 0) {
        return 'a mouse move needs x,y pairs (one pair clicks, more pairs drag)';
      }
      for (let i = 0; i < coords.length; i += 2) {
        if (!NUMBER.test(coords[i]) || !NUMBER.test(coords[i + 1])) {
          return `coordinates must be numbers, got ${JSON.stringify(coords[i] + ',' + coords[i + 1])}`;
        }
        const x = +coords[i], y = +coords[i + 1];
        if (x < 0 || y < 0 || x > maxX || y > maxY) {
          return `point (${x},${y}) is outside the board (x 0..${maxX}, y 0..${maxY})`;
        }
      }
    } else if (kind === 'key') {
      if (parts.length < 2) return 'a key move needs at least one key';
      for (const key of parts.slice(1)) {
        if (!KEY.test(key)) return `unknown key ${JSON.stringify(key)}`;
      }
    } else if (kind === 'cursor') {
      if (parts.length !== 3 || !NUMBER.test(parts[1]) || !NUMBER.test(parts[2])) return 'use cursor,x,y';
      const x = +parts[1], y = +parts[2];
      if (x < 0 || y < 0 || x > maxX || y > maxY) return `cursor (${x},${y}) is outside the board`;
    } else {
      return `${JSON.stringify(kind)} is not a play move (allowed: mouse, key, cursor)`;
    }
  }
  return null;
}

function runMouse(puzzle, parts) {
  const buttons = parts[1].split('+');
  const match = BUTTON.exec(buttons[buttons.length - 1]);
  const repeat = match[3] ? +match[3] : 1;
  const args = [match[1]].concat(parts.slice(2).map(Number));
  const alt = buttons.indexOf('alt') >= 0;
  if (alt) puzzle.key.isALT = true;
  for (let t = 0; t < repeat; t++) puzzle.mouse.inputPath.apply(puzzle.mouse, args);
  if (alt) puzzle.key.isALT = false;
}

function applyMove(puzzle, move) {
  for (const action of move.split(';')) {
    const parts = action.split(',');
    if (parts[0] === 'mouse') runMouse(puzzle, parts);
    else if (parts[0] === 'key') puzzle.key.inputKeys.apply(puzzle.key, parts.slice(1));
    else puzzle.cursor.init(+parts[1], +parts[2]);
  }
}

// One answer may take this long to play; then it is refused, so no answer can stall a batch
// (MOVE_BUDGET_SECONDS in verifier.py).
const MOVE_BUDGET_MS = Number(process.env.ARENA_PZPR_MOVE_BUDGET_MS || 10000); // the variable is for tests

function applyMoves(puzzle, moves) {
  if (!Array.isArray(moves)) throw new UserError('moves must be a list of strings');
  for (let i = 0; i < moves.length; i++) {
    const problem = checkMove(puzzle, moves[i]);
    if (problem) throw new UserError(`move ${i + 1} ${JSON.stringify(String(moves[i]).slice(0, 80))}: ${problem}`);
  }
  const started = Date.now();
  for (let i = 0; i < moves.length; i++) {
    applyMove(puzzle, moves[i]);
    if (Date.now() - started > MOVE_BUDGET_MS) {
      throw new UserError(`playing the moves took over ${MOVE_BUDGET_MS / 1000} s (stopped at move ${i + 1} of ${moves.length})`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The (2R+1) x (2C+1) layout, in pzpr's own coordinates: a cell's centre is (by, bx) = (2r+1, 2c+1), the
// edges between cells sit where one coordinate is even. Answer channels: cell value (anum for number entry,
// else qans: shaded / light / triangle), line on an edge, border drawn on an edge.
const ANSWER_CHANNELS = ['cell', 'line', 'border'];
const GIVEN_CHANNELS = ['qnum', 'qdir', 'ques', 'region', 'start_goal'];

// pzpr's piece lists are array-like, not iterable
function pieces(list) {
  return Array.prototype.slice.call(list);
}

function layoutShape(board) {
  return [2 * board.rows + 1, 2 * board.cols + 1];
}

function emptyLayout(board, fill) {
  const [h, w] = layoutShape(board);
  const out = [];
  for (let y = 0; y < h; y++) out.push(new Array(w).fill(fill));
  return out;
}

// Number-entry varieties (sudoku, ...) answer with anum; the rest with qans (shaded, light, triangle...).
// pzpr says which: "number" is one of the variety's play-mode inputs.
function numberEntry(puzzle) {
  return ((puzzle.mouse.inputModes && puzzle.mouse.inputModes.play) || []).indexOf('number') >= 0;
}

function readAnswer(puzzle) {
  const board = puzzle.board;
  const cell = emptyLayout(board, 0), line = emptyLayout(board, 0), border = emptyLayout(board, 0);
  const numbers = numberEntry(puzzle);
  for (const c of pieces(board.cell)) {
    cell[c.by][c.bx] = numbers ? Math.max(c.anum, 0) : c.qans;
  }
  for (const b of pieces(board.border)) {
    if (b.by < 0 || b.bx < 0 || b.by > 2 * board.rows || b.bx > 2 * board.cols) continue;
    line[b.by][b.bx] = b.line > 0 ? 1 : 0;
    border[b.by][b.bx] = b.qans > 0 ? 1 : 0;
  }
  return { cell, line, border };
}

function packQnums(qnums) {
  // tapa-style clue lists, packed base 11 with digit n+1 (a '?' is 10): [1, 3] -> 2*11 + 4 = 26
  let v = 0;
  for (const n of qnums) v = v * 11 + (n === -2 ? 10 : n + 1);
  return v;
}

function readGivens(puzzle) {
  const board = puzzle.board;
  const out = {};
  for (const name of GIVEN_CHANNELS) out[name] = emptyLayout(board, 0);
  for (const c of pieces(board.cell)) {
    const qnums = c.qnums && c.qnums.length ? packQnums(c.qnums) : null;
    out.qnum[c.by][c.bx] = qnums !== null ? qnums : c.qnum;
    out.qdir[c.by][c.bx] = c.qdir || 0;
    out.ques[c.by][c.bx] = c.ques || 0;
  }
  for (const b of pieces(board.border)) {
    if (b.by < 0 || b.bx < 0 || b.by > 2 * board.rows || b.bx > 2 * board.cols) continue;
    out.region[b.by][b.bx] = b.ques || 0;
  }
  if (board.startpos) out.start_goal[board.startpos.by][board.startpos.bx] = 1;
  if (board.goalpos) out.start_goal[board.goalpos.by][board.goalpos.bx] = 2;
  return out;
}

// Write an answer grid onto a cleared board through pzpr's own setters, which apply pzpr's input guards
// (a numbered cell that must stay unshaded, a line pzpr forbids, ...); a value pzpr refuses makes the answer
// malformed rather than silently dropped.
function writeAnswer(puzzle, grid) {
  const board = puzzle.board;
  const [h, w] = layoutShape(board);
  for (const name of ANSWER_CHANNELS) {
    const layer = grid[name];
    if (!Array.isArray(layer) || layer.length !== h || layer.some((row) => !Array.isArray(row) || row.length !== w)) {
      throw new UserError(`answer channel ${name} must be ${h}x${w}`);
    }
  }
  const numbers = numberEntry(puzzle);
  for (const c of pieces(board.cell)) {
    const v = grid.cell[c.by][c.bx];
    if (v === 0) continue;
    const where = `cell (row ${(c.by - 1) / 2 + 1}, col ${(c.bx - 1) / 2 + 1})`;
    if (!Number.isInteger(v) || v < 0) throw new UserError(`${where}: value ${v} is not a non-negative integer`);
    if (numbers) {
      if (c.qnum !== -1) throw new UserError(`${where} holds a given number and takes no answer`);
      if (v > c.getmaxnum() || v < c.getminnum()) {
        throw new UserError(`${where}: ${v} is outside ${c.getminnum()}..${c.getmaxnum()}`);
      }
      c.setAnum(v);
      if (c.anum !== v) throw new UserError(`${where}: pzpr refuses the number ${v} here`);
    } else {
      if (!c.allowShade()) throw new UserError(`${where} holds a clue and cannot be shaded`);
      c.setQans(v);
      if (c.qans !== v) throw new UserError(`${where}: pzpr refuses value ${v} here`);
    }
  }
  for (const b of pieces(board.border)) {
    if (b.by < 0 || b.bx < 0 || b.by >= h || b.bx >= w) continue;
    const where = `edge (y ${b.by}, x ${b.bx})`;
    const lineValue = grid.line[b.by][b.bx], borderValue = grid.border[b.by][b.bx];
    if (lineValue) {
      if (lineValue !== 1) throw new UserError(`${where}: a line is 0 or 1, got ${lineValue}`);
      b.setLineVal(1);
      if (b.line !== 1) throw new UserError(`${where}: pzpr does not allow a line here`);
    }
    if (borderValue) {
      if (borderValue !== 1) throw new UserError(`${where}: a border is 0 or 1, got ${borderValue}`);
      if (b.ques === 1) throw new UserError(`${where} is a given border`);
      b.setQans(1);
      if (b.qans !== 1) throw new UserError(`${where}: pzpr does not allow a border here`);
    }
  }
  // values written where the board has no cell or edge of that kind
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const isCell = y % 2 === 1 && x % 2 === 1, isEdge = (y + x) % 2 === 1;
      if (!isCell && grid.cell[y][x]) throw new UserError(`cell channel has a value at (y ${y}, x ${x}), not a cell`);
      if (!isEdge && (grid.line[y][x] || grid.border[y][x])) {
        throw new UserError(`edge channels have a value at (y ${y}, x ${x}), not an edge`);
      }
    }
  }
  puzzle.opemgr.allerase();
}

// ---------------------------------------------------------------------------------------------------------
// Checking. pzpr's check(true) stops at the first failing rule, in the variety's own order; "+" rules in a
// variety's checklist are the ones an unfinished board fails (empty cells, dead ends), so a board whose only
// failures are "+" rules is unfinished rather than wrong.
function verdict(puzzle) {
  const info = puzzle.check(true);
  const code = info.complete ? null : info.lastcode || 'invalid';
  puzzle.board.errclear();
  // pzpr's own wording (variety-specific messages first, as puz.link shows them)
  return { complete: !!info.complete, code, en: info.gettext('en'), ja: info.gettext('ja') };
}

function checklistParts(puzzle) {
  const checker = puzzle.checker;
  if (checker._arenaParts) return checker._arenaParts;
  const unfinishedFns = new Set();
  for (const entry of checker.checklist || []) {
    if (entry.indexOf('+') < 0) continue;
    const name = entry.split('@')[0].replace(/\+/g, '');
    if (typeof checker[name] === 'function') unfinishedFns.add(checker[name]);
  }
  checker._arenaParts = checker.checklist_normal.map((fn) => ({ fn, unfinished: unfinishedFns.has(fn) }));
  return checker._arenaParts;
}

// Every failing rule, each marked as "broken" (wrong whatever comes next) or "unfinished".
function allFailures(puzzle) {
  const checker = puzzle.checker;
  const broken = [], unfinished = [];
  checker.checkOnly = true;
  for (const part of checklistParts(puzzle)) {
    checker.failcode = new checker.klass.CheckInfo();
    part.fn.call(checker);
    for (let i = 0; i < checker.failcode.length; i++) {
      (part.unfinished ? unfinished : broken).push(checker.failcode[i]);
    }
  }
  checker.checkOnly = false;
  checker.resetCache();
  puzzle.board.errclear();
  return { broken, unfinished };
}

// Which edge channel the variety answers on: lines (loops, paths) or borders (dividing into regions).
function edgeChannel(puzzle) {
  const play = (puzzle.mouse.inputModes && puzzle.mouse.inputModes.play) || [];
  if (play.indexOf('line') >= 0) return 'line';
  if (play.indexOf('border') >= 0) return 'border';
  return null;
}

// 1 where an answer value can go on the empty board: cells pzpr lets the player fill, edges of the
// variety's edge channel that are not given (a line pzpr forbids, a given border). Shading a cell can
// still forbid a line later, which a write then reports.
function writableLayout(puzzle) {
  const board = puzzle.board;
  const out = emptyLayout(board, 0);
  const numbers = numberEntry(puzzle);
  const edges = edgeChannel(puzzle);
  for (const c of pieces(board.cell)) {
    out[c.by][c.bx] = (numbers ? c.qnum === -1 : c.allowShade() && !(c.prehook.qans && c.prehook.qans.call(c, 1))) ? 1 : 0;
  }
  for (const b of pieces(board.border)) {
    if (b.by < 0 || b.bx < 0 || b.by > 2 * board.rows || b.bx > 2 * board.cols) continue;
    let ok = false;
    if (edges === 'line') ok = !(b.enableLineNG && b.isLineNG());
    else if (edges === 'border') ok = b.ques !== 1 && !(b.prehook.qans && b.prehook.qans.call(b, 1));
    out[b.by][b.bx] = ok ? 1 : 0;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Operations
function describe(url) {
  const puzzle = openPuzzle(url);
  clearAnswer(puzzle);
  const board = puzzle.board;
  const cell0 = board.cell[0];
  const numbers = numberEntry(puzzle);
  return {
    pid: puzzle.pid,
    rows: board.rows,
    cols: board.cols,
    layout: layoutShape(board),
    givens: readGivens(puzzle),
    file: puzzle.getFileData(),
    number_entry: numbers,
    edge_channel: edgeChannel(puzzle),
    writable: writableLayout(puzzle),
    // the largest value the cell channel can take: the largest number for number entry; shading is 1,
    // shakashaka's four triangles are 2..5
    max_cell_value: numbers ? cell0.getmaxnum() : puzzle.pid === 'shakashaka' ? 5 : 1,
  };
}

function judge(item, withState) {
  const puzzle = openPuzzle(item.url);
  clearAnswer(puzzle);
  // a grid is written first, then moves are played on top of it (the step env does both)
  if (item.grid !== undefined) writeAnswer(puzzle, item.grid);
  if (item.moves !== undefined) applyMoves(puzzle, item.moves);
  const out = verdict(puzzle);
  if (withState) {
    out.answer = readAnswer(puzzle);
    Object.assign(out, allFailures(puzzle));
  }
  return out;
}

function batch(items, fn) {
  if (!Array.isArray(items)) throw new UserError('items must be a list');
  return items.map((item) => {
    try {
      return fn(item);
    } catch (err) {
      if (err instanceof UserError) return { error: err.message };
      return { error: `pzpr failed: ${err && err.message ? err.message : String(err)}` };
    }
  });
}

let rulesCache = null;
function rules(pid) {
  if (rulesCache === null) {
    rulesCache = {};
    for (const name of fs.readdirSync(samplesDir)) {
      if (!name.endsWith('.js')) continue;
      const found = {};
      const ui = { debug: { addRules: (id, r) => { found[id] = r; }, addDebugData: () => {} } };
      try {
        vm.runInNewContext(fs.readFileSync(path.join(samplesDir, name), 'utf8'), { ui }, { timeout: 1000 });
      } catch (err) {
        continue; // a sample file we cannot read only costs that variety its rules text
      }
      Object.assign(rulesCache, found);
    }
  }
  const entry = rulesCache[pid];
  if (!entry) return { en: '', ja: '' };
  return { en: (entry[0] && entry[0].rules) || '', ja: (entry[1] && entry[1].rules) || '' };
}

const OPS = {
  ping: () => ({ version: pzpr.version, pid: process.pid }),
  describe: (req) => batch(req.urls, (url) => describe(url)),
  verify: (req) => batch(req.items, (item) => judge(item, false)),
  state: (req) => batch(req.items, (item) => judge(item, true)),
  rules: (req) => rules(String(req.pid)),
  crash: () => process.exit(70), // for tests: dies mid-request, like an engine crash would
};

const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on('line', (text) => {
  let req;
  try {
    req = JSON.parse(text);
  } catch (err) {
    process.stdout.write(JSON.stringify({ id: null, ok: false, error: 'request is not JSON' }) + '\n');
    return;
  }
  let reply;
  try {
    const op = OPS[req.op];
    if (!op) throw new UserError(`unknown op ${JSON.stringify(req.op)}`);
    reply = { id: req.id, ok: true, result: op(req) };
  } catch (err) {
    reply = { id: req.id, ok: false, error: err && err.message ? err.message : String(err) };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
});
input.on('close', () => process.exit(0));
