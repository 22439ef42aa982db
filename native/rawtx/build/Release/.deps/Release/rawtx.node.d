cmd_Release/rawtx.node := ln -f "Release/obj.target/rawtx.node" "Release/rawtx.node" 2>/dev/null || (rm -rf "Release/rawtx.node" && cp -af "Release/obj.target/rawtx.node" "Release/rawtx.node")
