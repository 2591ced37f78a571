"""A sandboxed Lua 5.1 runtime for Argo CD-style resource customization scripts.

Argo CD runs ``health.lua`` scripts in gopher-lua (Lua 5.1) with, by default,
only the ``base``, ``table`` and ``package`` libraries and a safe subset of ``os``
(``time``, ``date``); ``useOpenLibs`` adds the rest of the standard libraries
(its built-in scripts always get them). Each run has a one-second deadline
(``util/lua/lua.go``). Here, with ``lupa`` (the C Lua 5.1):

- the script runs in its own fresh runtime, in an environment holding only those
  libraries: never ``io``, ``debug``, the real ``os``, ``load``/``loadfile``/
  ``dofile``, ``getfenv``/``setfenv`` or ``collectgarbage``; ``require`` gives
  only the safe ``os``; ``useOpenLibs`` adds ``string``, ``math`` and
  ``coroutine`` (the rest of gopher-lua's open libraries is refused: it reaches
  files, processes and the network); ``print`` prints nothing;
- limits: an instruction budget and a wall-clock deadline (a count hook, which a
  script cannot remove, and that ``pcall`` cannot swallow: once tripped, every
  protected call re-raises), and a memory ceiling on the whole runtime;
- every failure (syntax, runtime error, limit, wrong return shape) is a
  ``LuaScriptError`` with a message for the user; the caller makes the resource
  Unknown with it. Nothing a script does can hang or crash the engine, except a
  single pathological pattern match inside one C call (``string.find`` with a
  backtracking pattern on a long subject), which the hook cannot interrupt; the
  memory ceiling bounds the subject's size.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.model import HealthStatus, Manifest

MAX_MESSAGE_CHARS = 2048
MAX_SCRIPT_BYTES = 256 * 1024


@dataclass(frozen=True)
class LuaLimits:
    """What one script run may use (Argo CD: a one-second deadline, no memory limit)."""

    seconds: float = 1.0
    instructions: int = 50_000_000
    memory_bytes: int = 64 * 2**20
    hook_step: int = 1000
    """Instructions between two checks of the budget and the deadline."""


DEFAULT_LIMITS = LuaLimits()


class LuaScriptError(GitOpsError):
    """A customization script failed; the message names the reason (and the limit hit)."""

    title = "Lua script error"


class LuaUnavailableError(LuaScriptError):
    """The ``lupa`` binding is not installed."""


# The sandbox, built once per runtime with the full standard library at hand and
# returned as one function; the script only ever sees ``env``.
_BOOTSTRAP = r"""
local sethook, pcall_, xpcall_, error_, setfenv_, loadstring_ =
    debug.sethook, pcall, xpcall, error, setfenv, loadstring
local select_, unpack_, type_, sub_ = select, unpack, type, string.sub
local co_resume, co_wrap, co_create = coroutine.resume, coroutine.wrap, coroutine.create

return function(now, budget, seconds, step, open_libs, script, chunkname, obj)
  local killed = nil
  local used = 0
  local deadline = now() + seconds
  local function hook()
    used = used + step
    if killed == nil then
      if used > budget then
        killed = "script ran more than " .. budget .. " Lua instructions (endless loop?)"
      elseif now() > deadline then
        killed = "script ran longer than " .. seconds .. " s (endless loop?)"
      end
    end
    if killed ~= nil then error_(killed, 0) end
  end
  local function recheck(...)
    if killed ~= nil then error_(killed, 0) end
    return ...
  end

  local safe_os = { time = os.time, date = os.date }
  local env = {
    assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs,
    rawequal = rawequal, rawget = rawget, rawset = rawset, select = select,
    setmetatable = setmetatable, getmetatable = getmetatable, tonumber = tonumber,
    tostring = tostring, type = type, unpack = unpack, _VERSION = _VERSION,
    print = function() end,
    pcall = function(...) return recheck(pcall_(...)) end,
    xpcall = function(...) return recheck(xpcall_(...)) end,
    table = { concat = table.concat, insert = table.insert, maxn = table.maxn,
              remove = table.remove, sort = table.sort, getn = table.getn },
    os = safe_os,
  }
  env._G = env
  env.require = function(name)
    if name == "os" then return safe_os end
    error_("module '" .. tostring(name) .. "' not found: scripts may require only \"os\"", 2)
  end
  env.loadstring = function(text, name)
    if type_(text) ~= "string" then error_("loadstring expects a string", 2) end
    if sub_(text, 1, 1) == "\27" then return nil, "binary chunks are not allowed" end
    local fn, err = loadstring_(text, name)
    if fn then setfenv_(fn, env) end
    return fn, err
  end
  if open_libs then
    local s = {}
    for k, v in pairs(string) do s[k] = v end
    s.dump = nil
    env.string = s
    local m = {}
    for k, v in pairs(math) do m[k] = v end
    env.math = m
    local function create(f)
      local co = co_create(f)
      sethook(co, hook, "", step)  -- a Lua hook is per coroutine in 5.1
      return co
    end
    env.coroutine = {
      create = create, running = coroutine.running, status = coroutine.status,
      yield = coroutine.yield,
      resume = function(...) return recheck(co_resume(...)) end,
      wrap = function(f)
        local co = create(f)
        return function(...)
          local res = { recheck(co_resume(co, ...)) }
          if not res[1] then error_(res[2], 0) end
          return unpack_(res, 2, table.maxn(res))
        end
      end,
    }
  end
  env.obj = obj

  local fn, err = loadstring_(script, chunkname)
  if not fn then return false, err end
  setfenv_(fn, env)
  sethook(hook, "", step)
  local results = { pcall_(fn) }
  sethook()
  if killed ~= nil then return false, killed end
  return unpack_(results, 1, 2)
end
"""


def _lua51() -> Any:
    try:
        import lupa.lua51 as lua51  # the C Lua 5.1 build that lupa ships
    except ImportError as exc:  # pragma: no cover - lupa is a declared dependency
        raise LuaUnavailableError(
            "Lua customizations need the 'lupa' package (pip install lupa)"
        ) from exc
    return lua51


def _deny_attributes(obj: Any, name: Any, setting: bool) -> Any:
    """No Python object is handed to scripts; if one ever is, its attributes stay closed."""
    raise AttributeError("access to Python objects is not allowed")


_SCALARS = (str, bool, float, type(None))
MAX_DEPTH = 100


def _is_plain(obj: Any) -> bool:
    """JSON data (str keys; ints within a double's exact range) no deeper than
    ``MAX_DEPTH``: handed to Lua as it is, without a copy (the usual live object)."""
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth >= MAX_DEPTH:
                return False
            for key, item in value.items():
                if not isinstance(key, str):
                    return False
                if not isinstance(item, _SCALARS):
                    stack.append((item, depth + 1))
        elif isinstance(value, list):
            if depth >= MAX_DEPTH:
                return False
            stack.extend((item, depth + 1) for item in value if not isinstance(item, _SCALARS))
        elif isinstance(value, int):
            if abs(value) > 2**53:
                return False
        elif not isinstance(value, _SCALARS):
            return False
    return True


def _plain(value: Any, depth: int = 0) -> Any:
    """Only JSON-like data crosses into Lua (numbers as Lua numbers, like gopher-lua)."""
    if depth > MAX_DEPTH:
        raise LuaScriptError(f"object nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value) if isinstance(value, int) and abs(value) > 2**53 else value
    return str(value)


def run_script(
    script: str,
    obj: Manifest,
    *,
    use_open_libs: bool = False,
    limits: LuaLimits = DEFAULT_LIMITS,
    name: str = "health.lua",
) -> Any:
    """Run ``script`` with ``obj`` as the global ``obj``; return its first result (Lua values
    converted to Python: tables to dicts). Raises ``LuaScriptError``."""
    if len(script.encode("utf-8", "replace")) > MAX_SCRIPT_BYTES:
        raise LuaScriptError(f"{name}: script is larger than {MAX_SCRIPT_BYTES // 1024} KiB")
    lua51 = _lua51()
    runtime = lua51.LuaRuntime(
        max_memory=limits.memory_bytes,
        register_eval=False,
        register_builtins=False,
        attribute_filter=_deny_attributes,
    )
    try:
        runner = runtime.execute(_BOOTSTRAP)
        lua_obj = runtime.table_from(obj if _is_plain(obj) else _plain(obj), recursive=True)
        ok, value = runner(
            time.monotonic,
            limits.instructions,
            limits.seconds,
            limits.hook_step,
            use_open_libs,
            script,
            f"={name}",
            lua_obj,
        )
        if not ok:
            raise LuaScriptError(_prefixed(name, _text(value)))
        return _to_python(value, lua51, 0)
    except lua51.LuaMemoryError as exc:
        raise LuaScriptError(
            f"{name}: script used more than {limits.memory_bytes // 2**20} MiB of memory"
        ) from exc
    except lua51.LuaError as exc:
        raise LuaScriptError(_prefixed(name, _text(exc))) from exc
    except MemoryError as exc:
        raise LuaScriptError(
            f"{name}: script used more than {limits.memory_bytes // 2**20} MiB of memory"
        ) from exc


def _prefixed(name: str, text: str) -> str:
    return text if text.startswith(f"{name}:") else f"{name}: {text}"


def _text(value: Any) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    if "not enough memory" in text:
        return "script ran out of memory (the runtime's memory limit)"
    return text[:MAX_MESSAGE_CHARS]


def _to_python(value: Any, lua51: Any, depth: int) -> Any:
    if depth > 100:
        raise LuaScriptError("the script returned a table nested more than 100 levels deep")
    if lua51.lua_type(value) == "table":
        items = list(value.items())
        keys = [k for k, _ in items]
        if keys and all(isinstance(k, int | float) for k in keys):
            ordered = sorted(items, key=lambda kv: kv[0])
            return [_to_python(v, lua51, depth + 1) for _, v in ordered]
        return {str(k): _to_python(v, lua51, depth + 1) for k, v in items}
    if lua51.lua_type(value) is not None:  # function, userdata, thread
        return _LuaOpaque(str(lua51.lua_type(value)))
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return int(value)
    return value


@dataclass(frozen=True)
class _LuaOpaque:
    """A Lua value JSON cannot hold (function, userdata, coroutine)."""

    lua_type: str


_TYPE_NAMES = {dict: "table", list: "table", str: "string", bool: "boolean", int: "number"}

HEALTH_WORDS = frozenset(s.value for s in HealthStatus)


def health_from_script(
    script: str,
    obj: Manifest,
    *,
    use_open_libs: bool = False,
    limits: LuaLimits = DEFAULT_LIMITS,
    name: str = "health.lua",
) -> tuple[HealthStatus, str]:
    """Run a health script: (status, message). A status outside Argo CD's words gives
    Unknown with Argo CD's message; any other problem raises ``LuaScriptError``."""
    value = run_script(script, obj, use_open_libs=use_open_libs, limits=limits, name=name)
    if isinstance(value, list) and not value:
        value = {}  # an empty Lua table
    if not isinstance(value, dict):
        got = "nil" if value is None else _TYPE_NAMES.get(type(value), "value")
        if isinstance(value, _LuaOpaque):
            got = value.lua_type
        raise LuaScriptError(f"{name}: expect table output from Lua script, not {got}")
    message = value.get("message")
    if message is not None and not isinstance(message, str):
        raise LuaScriptError(f"{name}: the returned message is not a string")
    status = value.get("status")
    if not isinstance(status, str) or status not in HEALTH_WORDS:
        return HealthStatus.UNKNOWN, "Lua returned an invalid health status"
    return HealthStatus(status), (message or "")[:MAX_MESSAGE_CHARS]
