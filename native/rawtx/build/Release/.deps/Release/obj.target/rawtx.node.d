cmd_Release/obj.target/rawtx.node := g++ -o Release/obj.target/rawtx.node -shared -pthread -rdynamic -m64  -Wl,-soname=rawtx.node -Wl,--start-group Release/obj.target/rawtx/rawtx.o -Wl,--end-group 
