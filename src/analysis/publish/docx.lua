-- A pandoc that stays: HTML in, Word out, one report after another (`export.render_docx`).
--
-- Run as `pandoc lua docx.lua`, by one build worker, which writes each request to its stdin:
--   a line `source:<length> figure-1.png:<length> …` naming the HTML source and each chart
--   with its length in bytes, a line with the report's language, then those bytes in order;
-- and reads from its stdout a line `ok <length>` followed by the Word file, or `error
-- <length>` followed by pandoc's message. It is what `pandoc --from=html --to=docx
-- --reference-doc=… --metadata=lang:…` does with the charts beside the source (the same
-- bytes), without starting pandoc again for every report.
--
-- The reference document comes first, once (a line with its length, then its bytes), and is
-- kept in a temporary folder that pandoc removes when its stdin closes.

local function read_exactly(count)
  local data = io.read(count)
  if count > 0 and (data == nil or #data ~= count) then
    error("the request ended early")
  end
  return data or ""
end

local function reply(status, data)
  io.write(status, " ", #data, "\n", data)
  io.flush()
end

io.stdin:setvbuf("full")
io.stdout:setvbuf("full")

pandoc.system.with_temporary_directory("analysis-docx", function(folder)
  local reference = pandoc.path.join({folder, "reference.docx"})
  local size = tonumber(io.read("l"))
  local out = assert(io.open(reference, "wb"))
  out:write(read_exactly(size))
  out:close()
  while true do
    local header = io.read("l")
    if header == nil then
      break
    end
    -- Every byte of the request is read before anything can fail, so that an error leaves
    -- the stream at the start of the next request.
    local sizes, names = {}, {}
    for name, number in header:gmatch("(%S+):(%d+)") do
      names[#names + 1] = name
      sizes[#sizes + 1] = tonumber(number)
    end
    local lang = io.read("l")
    local parts = {}
    for index = 1, #sizes do
      parts[index] = read_exactly(sizes[index])
    end
    local ok, result = pcall(function()
      pandoc.mediabag.empty()
      for index = 2, #parts do
        local mime = names[index]:match("%.jpe?g$") and "image/jpeg" or "image/png"
        pandoc.mediabag.insert(names[index], mime, parts[index])
      end
      local doc = pandoc.read(parts[1], "html")
      doc.meta.lang = pandoc.MetaString(lang)
      return pandoc.write(doc, "docx", {reference_doc = reference})
    end)
    if ok then
      reply("ok", result)
    else
      reply("error", tostring(result))
    end
  end
end)
