-- Loaded by tests/servers/prosody.sh with CANTO_PROSODY_RELIABILITY=1.
--
-- Works around a Prosody 0.12 bug that the reliability tests run into: after
-- an XEP-0198 resumption, mod_smacks moves the session onto the new
-- connection and its new XML stream, but the session's data function (made
-- by mod_c2s when the old connection was accepted) keeps feeding the *old*
-- connection's parser. When the old connection broke in the middle of a
-- stanza, that parser is still inside the broken element: what the client
-- sends after <resumed/> is then either rejected as not-well-formed (the
-- session is killed and cannot be resumed) or swallowed as children of the
-- broken element (nothing is processed or acknowledged again). Feed the
-- stream the session uses now.
module:hook("smacks-hibernation-end", function(event)
	local resumed = event.resumed;
	if not resumed or not resumed.stream then
		return;
	end
	function resumed.data(data)
		if not data then
			return;
		end
		local ok, err = resumed.stream:feed(data);
		if not ok then
			module:log("debug", "Received invalid XML (%s) %d bytes", err, #data);
			resumed:close("not-well-formed");
		end
	end
end);
