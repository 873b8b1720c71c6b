build/common/crypto.o: common/crypto.c common/crypto.h common/util.h
common/crypto.h:
common/util.h:
